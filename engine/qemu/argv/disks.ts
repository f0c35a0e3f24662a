// Disks: each becomes a protocol node (file, host block device or NBD client), a format node, and
// a guest device. Xen's vdev prefix chooses the bus the guest sees: xvdX → virtio-blk (PV disks),
// hdX/sdX → the q35 AHCI controller's ports (emulated IDE/SATA), CD-ROMs → ide-cd. A read-only
// hdX/sdX disk cannot be an ide-hd (QEMU refuses a read-only node there), so it becomes a SCSI
// disk (scsi-hd on virtio-scsi), which the guest sees as a read-only sdX.

import { parseNbdTarget, type DiskSpec, type DomainConfig } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';
import type { QemuOption } from './context.js';
import { optList } from './escape.js';

/** q35's built-in AHCI controller has six ports: ide.0 … ide.5. */
const AHCI_PORTS = 6;

export interface DiskPlacement {
  disk: DiskSpec;
  /** Device id, stable across runs so hotplug and stats can name it: `disk-xvda`. */
  id: string;
  /** Format node name: `drive-xvda` (its protocol node is `drive-xvda-file`). */
  node: string;
  bus: 'virtio' | 'ahci' | 'scsi';
  /** AHCI port for `ahci` disks, SCSI LUN for `scsi` ones. */
  port?: number;
}

/** The virtio-scsi controller that read-only hdX/sdX disks sit on. */
export const SCSI_CONTROLLER = 'scsi0';

/** A read-only disk on an emulated bus: ide-hd cannot take it, scsi-hd can. */
function readOnlyEmulated(disk: DiskSpec): boolean {
  return disk.devtype === 'disk' && disk.access === 'r' && !disk.vdev.startsWith('xvd');
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
    } else if (readOnlyEmulated(disk)) {
      placement.bus = 'scsi';
      placement.port = placements.filter((p) => p.bus === 'scsi').length;
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
  if (placements.some((p) => p.bus === 'scsi')) options.push(['-device', `virtio-scsi-pci,id=${SCSI_CONTROLLER}`]);
  for (const p of placements) {
    const { disk } = p;
    const readOnly = disk.access === 'r' || disk.devtype === 'cdrom';
    const hasMedium = disk.target !== '';
    if (hasMedium) {
      options.push([
        '-blockdev',
        optList(
          [
            ...protocolPairs(disk),
            ['node-name', `${p.node}-file`],
            ['read-only', readOnly],
            // w! in Xen means "I know another domain writes this too": QEMU's image locking would refuse it.
            ['locking', disk.access === 'w!' ? false : undefined],
          ],
          `disk ${disk.vdev}`,
        ),
      ]);
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
      p.bus === 'virtio' ? 'virtio-blk-pci' : p.bus === 'scsi' ? 'scsi-hd' : disk.devtype === 'cdrom' ? 'ide-cd' : 'ide-hd';
    options.push([
      '-device',
      `${device},` +
      optList(
        [
          ['bus', p.bus === 'ahci' ? `ide.${p.port}` : p.bus === 'scsi' ? `${SCSI_CONTROLLER}.0` : undefined],
          ['lun', p.bus === 'scsi' ? p.port : undefined],
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

/** The protocol node's driver and where it reads from. */
function protocolPairs(disk: DiskSpec): Array<[string, string]> {
  if (disk.backend === 'nbd') {
    const nbd = parseNbdTarget(disk.target);
    if ('error' in nbd) throw new UnsupportedConfigError(`disk ${disk.vdev}: ${nbd.error}`);
    return [['driver', 'nbd'], ['server.type', 'inet'], ['server.host', nbd.host.replace(/^\[|\]$/g, '')], ['server.port', String(nbd.port)]];
  }
  const driver = disk.backend === 'phy' ? (disk.devtype === 'cdrom' ? 'host_cdrom' : 'host_device') : 'file';
  return [['driver', driver], ['filename', disk.target]];
}

function letterIndex(letters: string): number {
  let index = 0;
  for (const ch of letters) index = index * 26 + (ch.charCodeAt(0) - 96);
  return index - 1;
}
