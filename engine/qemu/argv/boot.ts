// How the guest boots. Three ways, as in Xen:
//  - direct kernel boot (`kernel`, `ramdisk`, `extra`, `root`): QEMU loads the kernel itself;
//  - `bootloader` (pygrub): Xen ran pygrub to find the kernel inside the disk image. Under QEMU the
//    firmware runs the guest's own boot loader from that disk, which is what pygrub emulated, so
//    the config boots the first disk;
//  - firmware boot in `boot` order (c disk, d cdrom, n network), expressed as device bootindex.

import type { DomainConfig } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';
import type { QemuOption } from './context.js';
import type { DiskPlacement } from './disks.js';
import { rawValue } from './escape.js';
import type { NicPlacement } from './nics.js';

export function kernelOptions(config: DomainConfig): QemuOption[] {
  if (!config.kernel) {
    if (config.ramdisk) throw new UnsupportedConfigError('ramdisk is set but kernel is not; set kernel to boot a kernel directly');
    if (config.builder === 'linux' && !config.bootloader && !config.disk.some((d) => d.target !== '')) {
      throw new UnsupportedConfigError('nothing to boot: set kernel (direct boot), bootloader, or add a disk');
    }
    return [];
  }
  const options: QemuOption[] = [['-kernel', rawValue(config.kernel, 'kernel')]];
  if (config.ramdisk) options.push(['-initrd', rawValue(config.ramdisk, 'ramdisk')]);
  // Xen puts root= first, then extra (tools/python/xen/xend/image.py).
  const cmdline = [config.root ? `root=${config.root}` : '', config.extra ?? ''].filter(Boolean).join(' ');
  if (cmdline) options.push(['-append', rawValue(cmdline, 'extra/root')]);
  return options;
}

/** Map device ids to bootindex from the `boot` letters; empty for direct kernel boot. */
export function bootIndexes(config: DomainConfig, disks: readonly DiskPlacement[], nics: readonly NicPlacement[]): Map<string, number> {
  const indexes = new Map<string, number>();
  if (config.kernel) return indexes;
  // pygrub-style configs boot the first disk, like Xen's bootloader did.
  const order = config.bootloader ? 'c' : (config.boot ?? 'c');
  let next = 1;
  for (const letter of order) {
    let id: string | undefined;
    if (letter === 'c') id = disks.find((d) => d.disk.devtype === 'disk' && d.disk.target !== '')?.id;
    else if (letter === 'd') id = disks.find((d) => d.disk.devtype === 'cdrom')?.id;
    else if (letter === 'n') id = nics[0]?.id;
    // 'a' is the floppy: Dom0 guests have none, so the firmware goes on to the next letter, as
    // Xen's BIOS did with no floppy in the drive (xmexample.hvm-stubdom's boot = "cda").
    if (id && !indexes.has(id)) indexes.set(id, next++);
  }
  return indexes;
}
