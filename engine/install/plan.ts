// Install description + facts about the host → the xm configs to run and the disks to make. Pure:
// no I/O, so every combination is unit-tested. Like virt-install, an install that boots an
// installer (--cdrom, --location, --pxe) has two phases: the install config runs first (installer
// media, and on_reboot = "destroy" so the installer's final reboot ends it); the final config,
// which boots from the disk, is what is defined and what runs from then on.

import { loadDomainConfigText, serializeDomainConfig, type DiskSpec, type DomainConfig } from '../config/index.js';
import type { OsEntry } from './catalogue.js';
import { InstallError } from './errors.js';
import type { DiskBus, InstallDescription } from './types.js';

/** Domain names become file names and QEMU -name values: keep them plain (Xen allows more; we do not need it). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;
export const GIB = 1024 ** 3;
export const MAX_DISK_GIB = 64 * 1024;

export interface PlanFacts {
  os: OsEntry;
  imagesDir: string;
  /** Format of each `existing` disk, detected (qemu-img info) or given. */
  existingFormats: ('raw' | 'qcow2')[];
  /** --location: the fetched installer kernel and initrd on the host. */
  bootFiles?: { kernel: string; initrd: string };
  /** Paths taken (images in the pool): a new disk gets the first free `<name>[-N].<fmt>`. */
  taken: (path: string) => boolean;
}

export interface NewDisk {
  path: string;
  format: 'raw' | 'qcow2';
  sizeBytes: number;
}

export interface InstallPlan {
  /** The config of the installer run, absent for one-phase installs (--import, --boot kernel=). */
  install?: DomainConfig;
  /** The config defined as <config>/domains/<name>.cfg. */
  final: DomainConfig;
  newDisks: NewDisk[];
}

function vdevPrefix(bus: DiskBus): string {
  return bus === 'virtio' ? 'xvd' : bus === 'sata' ? 'sd' : 'hd';
}

/** Check what can be checked without touching the host. */
export function checkDescription(d: InstallDescription): void {
  const bad = (m: string): never => {
    throw new InstallError('InvalidInstall', m);
  };
  if (!NAME_PATTERN.test(d.name)) bad(`--name ${JSON.stringify(d.name)}: use 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit`);
  if (d.name === 'Domain-0') bad('--name Domain-0 is the host; choose another name');
  if (d.memory !== undefined && (!Number.isInteger(d.memory) || d.memory < 32)) bad(`--memory ${d.memory}: give MiB, at least 32`);
  if (d.vcpus !== undefined && (!Number.isInteger(d.vcpus) || d.vcpus < 1)) bad(`--vcpus ${d.vcpus}: give at least 1`);
  for (const disk of d.disks) {
    if (disk.kind === 'new' && disk.sizeGiB !== undefined && (!(disk.sizeGiB > 0) || disk.sizeGiB > MAX_DISK_GIB)) bad(`--disk size=${disk.sizeGiB}: give a size in GiB between 0 and ${MAX_DISK_GIB}`);
  }
  if (d.source.kind === 'import' && d.disks[0]?.kind !== 'existing') bad('--import needs an existing disk image first: --disk path=/path/to/image');
  if (d.network.kind === 'bridge' && !/^[A-Za-z0-9_.-]{1,15}$/.test(d.network.bridge)) bad(`--network bridge=${d.network.bridge}: not a bridge name`);
  if (d.source.kind === 'pxe' && d.network.kind === 'none') bad('--pxe needs a network: drop --network none');
}

export function planInstall(d: InstallDescription, facts: PlanFacts): InstallPlan {
  checkDescription(d);
  const { os } = facts;
  const disks: DiskSpec[] = [];
  const newDisks: NewDisk[] = [];
  // hdX and sdX share the AHCI ports by letter, so they count as one group; xvdX is its own.
  const group = (vdev: string) => (vdev.startsWith('xvd') ? 'xvd' : 'ahci');
  const letterFor = (prefix: string): string => {
    for (let i = 0; i < 26; i++) {
      const letter = String.fromCharCode(97 + i);
      if (!disks.some((x) => group(x.vdev) === group(prefix) && x.vdev.endsWith(letter))) return `${prefix}${letter}`;
    }
    throw new InstallError('InvalidInstall', 'too many disks');
  };
  let existingIndex = 0;
  const cdroms: DiskSpec[] = [];
  for (const req of d.disks) {
    if (req.kind === 'cdrom') {
      // Placed after the disks, like the install CD-ROM, so the disks keep the first letters.
      cdroms.push({ backend: 'file', target: req.path ?? '', format: 'raw', vdev: '', devtype: 'cdrom', access: 'r' });
      continue;
    }
    const bus = req.bus ?? os.diskBus;
    if (req.kind === 'new') {
      const format = req.format ?? 'qcow2';
      let path = req.path ?? `${facts.imagesDir}/${d.name}.${format}`;
      if (req.path !== undefined) {
        // virt-install's path=X,size=N: a new image at a path of the user's choosing.
        if (!req.path.startsWith('/')) throw new InstallError('InvalidInstall', `--disk path=${req.path},size=: give an absolute path`);
        if (facts.taken(req.path) || newDisks.some((x) => x.path === req.path)) {
          throw new InstallError('InvalidInstall', `--disk path=${req.path},size=: ${req.path} already exists; drop size= to use it as it is, or choose a new path`);
        }
      } else {
        for (let n = 1; facts.taken(path) || newDisks.some((x) => x.path === path); n++) path = `${facts.imagesDir}/${d.name}-${n}.${format}`;
      }
      newDisks.push({ path, format, sizeBytes: Math.round(((req.sizeGiB ?? os.disk) * GIB) / 512) * 512 });
      disks.push({ backend: 'file', target: path, format, vdev: letterFor(vdevPrefix(bus)), devtype: 'disk', access: 'w' });
    } else {
      const format = facts.existingFormats[existingIndex++] ?? req.format ?? 'raw';
      const backend = req.path.startsWith('/dev/') ? 'phy' : 'file';
      disks.push({ backend, target: req.path, format, vdev: letterFor(vdevPrefix(bus)), devtype: 'disk', access: req.readonly ? 'r' : 'w' });
    }
  }
  const src = d.source;
  const cdrom: DiskSpec | undefined =
    src.kind === 'cdrom' ? { backend: 'file', target: src.path, format: 'raw', vdev: letterFor('hd'), devtype: 'cdrom', access: 'r' } : undefined;
  if (cdrom) disks.push(cdrom);
  for (const c of cdroms) {
    c.vdev = letterFor('hd');
    disks.push(c);
  }

  const lines = [
    `name = "${d.name}"`,
    `memory = ${d.memory ?? os.memory}`,
    `vcpus = ${d.vcpus ?? os.vcpus}`,
    ...(d.maxMemory !== undefined ? [`maxmem = ${d.maxMemory}`] : []),
    ...(d.maxVcpus !== undefined ? [`maxvcpus = ${d.maxVcpus}`] : []),
  ];
  const base = loadDomainConfigText(lines.join('\n'), `${d.name}.cfg`).config;
  const final: DomainConfig = {
    ...base,
    builder: src.kind === 'kernel' ? 'linux' : 'hvm',
    disk: disks,
    vif: [d.network, ...(d.moreNetworks ?? [])].flatMap((n) =>
      n.kind === 'none' ? [] : [{ ...(n.kind === 'bridge' ? { bridge: n.bridge } : {}), model: n.model ?? os.nic, ...(n.mac ? { mac: n.mac } : {}) }],
    ),
    vfb: d.graphics === 'vnc' ? [{ type: 'vnc', ...(d.vnc?.password ? { vncpasswd: d.vnc.password } : {}), ...(d.vnc?.keymap ? { keymap: d.vnc.keymap } : {}), ...(d.vnc?.listen ? { vnclisten: d.vnc.listen } : {}) }] : [],
    nographic: d.graphics === 'none',
    // A tablet makes the VNC pointer follow the mouse in graphical installers.
    usb: d.graphics === 'vnc' && src.kind !== 'kernel' ? true : base.usb,
    usbdevice: d.graphics === 'vnc' && src.kind !== 'kernel' ? 'tablet' : undefined,
    description: d.description ?? `${os.name}, created by virt-install`,
  };
  const hasDisk = disks.some((x) => x.devtype === 'disk');
  let install: DomainConfig | undefined;
  switch (src.kind) {
    case 'kernel':
      final.kernel = src.kernel;
      if (src.initrd) final.ramdisk = src.initrd;
      if (src.args) final.extra = src.args;
      break;
    case 'import':
      final.boot = 'c';
      break;
    case 'cdrom':
      // After the install the disk boots first; the CD stays in the drive, as virt-install leaves it.
      // A live CD (--livecd) is the system itself: it stays the first boot device.
      final.boot = d.liveCd ? (hasDisk ? 'dc' : 'd') : hasDisk ? 'cd' : 'd';
      if (d.liveCd) break;
      install = { ...final, boot: 'dc', on_reboot: 'destroy' };
      break;
    case 'pxe':
      final.boot = hasDisk ? 'cn' : 'n';
      install = { ...final, boot: 'nc', on_reboot: 'destroy' };
      break;
    case 'location': {
      if (!facts.bootFiles) throw new InstallError('InvalidInstall', '--location: the installer kernel and initrd were not fetched');
      final.boot = 'c';
      const extra = src.extraArgs ?? (d.graphics === 'none' ? 'console=ttyS0' : undefined);
      install = { ...final, kernel: facts.bootFiles.kernel, ramdisk: facts.bootFiles.initrd, ...(extra ? { extra } : {}), on_reboot: 'destroy' };
      break;
    }
  }
  if (!hasDisk && src.kind === 'location') throw new InstallError('InvalidInstall', '--location installs onto a disk: add --disk size=N');
  // Both configs go through the same validation as a hand-written file.
  const validate = (c: DomainConfig): DomainConfig => loadDomainConfigText(serializeDomainConfig(c), `${d.name}.cfg`).config;
  return { final: validate(final), install: install && validate(install), newDisks };
}
