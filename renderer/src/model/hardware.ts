// Add Hardware and Host details, as pure functions: the disk and vif lines the engine reads
// (the config grammar), the next free device name per bus, sizes and MACs checked before sending.

import type { DomainConfig } from '../api/types.js';

export { formatBytes } from '../../../engine/protocol/common/sizes.js';

export type DiskBus = 'virtio' | 'sata' | 'ide';

export const BUS_LABELS: Record<DiskBus, string> = { virtio: 'VirtIO (xvd)', sata: 'SATA (sd)', ide: 'IDE (hd)' };
const BUS_PREFIX: Record<DiskBus, string> = { virtio: 'xvd', sata: 'sd', ide: 'hd' };
/** q35's AHCI controller has six ports, shared by hd* and sd* names. */
const AHCI_PORTS = 6;

export const NIC_MODELS = ['virtio', 'e1000', 'rtl8139'] as const;

/** The first device name of the bus no disk of the config uses: xvdb after xvda, sdc after sda+sdb. */
export function nextVdev(config: Pick<DomainConfig, 'disk'>, bus: DiskBus): string | undefined {
  const used = new Set(config.disk.map((d) => d.vdev));
  const limit = bus === 'virtio' ? 26 : AHCI_PORTS;
  for (let i = 0; i < limit; i++) {
    const name = `${BUS_PREFIX[bus]}${String.fromCharCode(97 + i)}`;
    // hdX and sdX share AHCI ports: sdc and hdc would collide.
    const twin = bus === 'virtio' ? undefined : `${bus === 'sata' ? 'hd' : 'sd'}${String.fromCharCode(97 + i)}`;
    if (!used.has(name) && (twin === undefined || !used.has(twin))) return name;
  }
  return undefined;
}

/** A config disk line for an image file: `tap:qcow2:/p,xvdb,w`, `file:/p,sdb,r`, `file:/x.iso,hdc:cdrom,r`. */
export function diskLine({ path, format, vdev, readOnly, cdrom }: { path: string; format: string; vdev: string; readOnly: boolean; cdrom: boolean }): string {
  const prefix = format === 'raw' ? 'file:' : `tap:${format}:`;
  return `${prefix}${path},${vdev}${cdrom ? ':cdrom' : ''},${readOnly || cdrom ? 'r' : 'w'}`;
}

/** A config vif line: NAT unless a bridge is named; MAC and port forwards when given. */
export function vifLine({ bridge, model, mac, hostfwd }: { bridge?: string; model: string; mac?: string; hostfwd?: string }): string {
  const parts: string[] = [];
  if (mac) parts.push(`mac=${mac.toLowerCase()}`);
  if (bridge) parts.push(`bridge=${bridge}`);
  parts.push(`model=${model}`);
  if (hostfwd && !bridge) parts.push(`hostfwd=${hostfwd.trim().split(/\s+/).join(' ')}`);
  return parts.join(',');
}

/** A message when the MAC is not a usable unicast `xx:xx:xx:xx:xx:xx`, else undefined. */
export function macProblem(mac: string): string | undefined {
  if (mac === '') return undefined;
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) return 'Write six hex pairs, such as 00:16:3e:12:34:56.';
  if (parseInt(mac.slice(0, 2), 16) & 1) return 'That is a multicast address; a NIC needs a unicast one (00:16:3e:…).';
  return undefined;
}

/** Port forwards as the vif's hostfwd takes them: `tcp:2222:22 udp:0.0.0.0:5353:53`. */
export function hostfwdProblem(text: string): string | undefined {
  for (const rule of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(tcp|udp):(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})$/.exec(rule);
    if (!m || Number(m[3]) > 65535 || Number(m[4]) > 65535 || Number(m[3]) < 1 || Number(m[4]) < 1) {
      return `'${rule}' is not a forward: write protocol:host port:guest port, such as tcp:2222:22.`;
    }
  }
  return undefined;
}

/** GiB as typed (decimals allowed) → bytes, or undefined if not a positive size. */
export function gibToBytes(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  const bytes = Math.round(Number(text) * 1024 ** 3);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A volume name: a plain file name (the engine checks the same). */
export function volumeNameProblem(name: string): string | undefined {
  if (name === '') return 'Give the volume a name.';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/.test(name)) return "Use letters, digits, '_', '.', '+' or '-', not starting with '.' or '-'.";
  return undefined;
}
