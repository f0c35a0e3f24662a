// Which disk images the Delete dialog offers to delete with a domain: the file-backed disks of its
// config (never block devices, never empty CD-ROM drives), the writable ones ticked by default.
// The engine refuses any other path (domain.delete's InvalidPath), so this is the same rule.

import type { DomainConfig, DomainDisk } from '../api/types.js';

export interface DeletableDisk {
  path: string;
  /** Writable hard disks: yes; CD-ROM images and read-only disks (often shared ISOs): no. */
  checkedByDefault: boolean;
  /** "xvda · qcow2 · read/write". */
  note: string;
}

export function accessLabel(access: DomainDisk['access']): string {
  return access === 'r' ? 'read-only' : access === 'w!' ? 'shared read/write' : 'read/write';
}

export function deletableDisks(config: Pick<DomainConfig, 'disk'>): DeletableDisk[] {
  const out: DeletableDisk[] = [];
  for (const disk of config.disk) {
    if (disk.backend === 'phy' || disk.target === '') continue;
    if (out.some((d) => d.path === disk.target)) continue;
    const cdrom = disk.devtype === 'cdrom';
    out.push({
      path: disk.target,
      checkedByDefault: !cdrom && disk.access !== 'r',
      note: [disk.vdev, disk.format, cdrom ? 'CD-ROM' : accessLabel(disk.access)].join(' · '),
    });
  }
  return out;
}
