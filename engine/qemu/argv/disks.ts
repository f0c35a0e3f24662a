// Disks: each becomes a protocol node (file or host block device), a format node, and a guest
// device. Xen's vdev prefix chooses the bus the guest sees: xvdX → virtio-blk (PV disks),
// hdX/sdX → the q35 AHCI controller's ports (emulated IDE/SATA), CD-ROMs → ide-cd.

import type { DiskSpec, DomainConfig } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';
import type { QemuOption } from './context.js';
import { optList } from './escape.js';
import { iscsiProtocol } from './iscsi.js';

/** q35's built-in AHCI controller has six ports: ide.0 … ide.5. */
const AHCI_PORTS = 6;

export interface DiskPlacement {
  disk: DiskSpec;
  /** Device id, stable across runs so hotplug and stats can name it: `disk-xvda`. */
  id: string;
  /** Format node name: `drive-xvda` (its protocol node is `drive-xvda-file`). */
  node: string;
  bus: 'virtio' | 'ahci';
  /** AHCI port for `ahci` disks. */
  port?: number;
}

/** Decide where every disk goes; refuses configs two disks of which would share a port. */
export function placeDisks(config: DomainConfig): DiskPlacement[] {
  const placements: DiskPlacement[] = [];
  const usedPorts = new Map<number, string>();
  const pendingCdroms: DiskPlacement[] = [];
  for (const disk of config.disk) {
    const match = /^(xvd|hd|sd)([a-z]+)$/.exec(disk.vdev);
    if (!match) throw new UnsupportedConfigError(`disk vdev '${disk.vdev}' is not supported; name it xvdX, hdX or sdX`);
    const [, prefix = '', letters = ''] = match;
    if (placements.some((p) => p.disk.vdev === disk.vdev) || pendingCdroms.some((p) => p.disk.vdev === disk.vdev)) {
      throw new UnsupportedConfigError(`two disks are both named ${disk.vdev}; give each a different vdev`);
    }
    const placement: DiskPlacement = { disk, id: `disk-${disk.vdev}`, node: `drive-${disk.vdev}`, bus: 'ahci' };
    if (prefix === 'xvd' && disk.devtype === 'disk') {
      placement.bus = 'virtio';
    } else if (prefix === 'xvd') {
      // A PV CD-ROM has no virtio equivalent: it takes the first free AHCI port once the others are placed.
      pendingCdroms.push(placement);
      continue;
    } else {
      const port = letterIndex(letters);
      if (port >= AHCI_PORTS) {
        throw new UnsupportedConfigError(`disk ${disk.vdev}: only ${AHCI_PORTS} IDE/SATA disks fit (hda-hdf/sda-sdf); use xvdX for more`);
      }
      const other = usedPorts.get(port);
      if (other) throw new UnsupportedConfigError(`disks ${other} and ${disk.vdev} would share SATA port ${port}; rename one`);
      usedPorts.set(port, disk.vdev);
      placement.port = port;
    }
    placements.push(placement);
  }
  for (const placement of pendingCdroms) {
    let port = 0;
    while (usedPorts.has(port)) port++;
    if (port >= AHCI_PORTS) throw new UnsupportedConfigError(`no free IDE/SATA port left for CD-ROM ${placement.disk.vdev}`);
    usedPorts.set(port, placement.disk.vdev);
    placement.port = port;
    placements.push(placement);
  }
  return placements;
}

export function diskOptions(placements: readonly DiskPlacement[], bootIndex: ReadonlyMap<string, number>): QemuOption[] {
  const options: QemuOption[] = [];
  for (const p of placements) {
    const { disk } = p;
    const readOnly = disk.access === 'r' || disk.devtype === 'cdrom';
    const hasMedium = disk.target !== '';
    if (hasMedium && disk.backend === 'iscsi') {
      options.push(['-blockdev', optList([...Object.entries(iscsiProtocol(disk.target)), ['node-name', `${p.node}-file`], ['read-only', readOnly]], `disk ${disk.vdev}`)]);
    } else if (hasMedium) {
      const protocol = disk.backend === 'phy' ? (disk.devtype === 'cdrom' ? 'host_cdrom' : 'host_device') : 'file';
      options.push([
        '-blockdev',
        optList(
          [
            ['driver', protocol],
            ['filename', disk.target],
            ['node-name', `${p.node}-file`],
            ['read-only', readOnly],
            // w! in Xen means "I know another domain writes this too": QEMU's image locking would refuse it.
            ['locking', disk.access === 'w!' ? false : undefined],
          ],
          `disk ${disk.vdev}`,
        ),
      ]);
    }
    if (hasMedium) {
      options.push([
        '-blockdev',
        optList(
          [
            ['driver', disk.format],
            ['file', `${p.node}-file`],
            ['node-name', p.node],
            ['read-only', readOnly],
          ],
          `disk ${disk.vdev}`,
        ),
      ]);
    }
    const device =
      p.bus === 'virtio' ? 'virtio-blk-pci' : disk.devtype === 'cdrom' ? 'ide-cd' : 'ide-hd';
    options.push([
      '-device',
      `${device},` +
      optList(
        [
          ['bus', p.bus === 'ahci' ? `ide.${p.port}` : undefined],
          ['drive', hasMedium ? p.node : undefined],
          ['id', p.id],
          ['share-rw', disk.access === 'w!' ? true : undefined],
          ['bootindex', bootIndex.get(p.id)],
        ],
        `disk ${disk.vdev}`,
      ),
    ]);
  }
  return options;
}

function letterIndex(letters: string): number {
  let index = 0;
  for (const ch of letters) index = index * 26 + (ch.charCodeAt(0) - 96);
  return index - 1;
}
