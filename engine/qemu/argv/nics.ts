// Network interfaces. Without `bridge=` a vif is user-mode NAT (works unprivileged, like
// virt-manager's default network); with `bridge=` it is a tap device that the lifecycle attaches
// to the host bridge before the guest runs, as Xen's vif-bridge script did.

import { parseHostfwd, type DomainConfig, type VifSpec } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';
import type { QemuContext, QemuOption } from './context.js';
import { optList } from './escape.js';

export const NIC_MODELS: Readonly<Record<string, string>> = {
  virtio: 'virtio-net-pci',
  'virtio-net': 'virtio-net-pci',
  e1000: 'e1000',
  e1000e: 'e1000e',
  rtl8139: 'rtl8139',
  vmxnet3: 'vmxnet3',
  ne2k_pci: 'ne2k_pci',
};

export interface NicPlacement {
  vif: VifSpec;
  index: number;
  /** Device id `nic0`, netdev id `net0`. */
  id: string;
  netdev: string;
  mac: string;
  /** Host tap name for bridged vifs (Xen's vif<domid>.<n> is not known before start, so ours is per name). */
  tap?: string;
}

export function placeNics(config: DomainConfig, ctx: QemuContext): NicPlacement[] {
  return config.vif.map((vif, index) => {
    const placement: NicPlacement = {
      vif,
      index,
      id: `nic${index}`,
      netdev: `net${index}`,
      mac: vif.mac ?? ctx.macFor(index),
    };
    if (vif.bridge) placement.tap = vif.vifname ?? tapName(config.name, index);
    return placement;
  });
}

/**
 * The NIC a vif without `model=` gets. Xen's qemu-dm gave HVM guests an rtl8139; e1000 is the one
 * emulated NIC that Windows since XP and every Linux drive out of the box (Windows 8 and later
 * dropped rtl8139). PV guests were Linux with netfront: today's Linux has virtio-net.
 */
export function defaultNicModel(config: DomainConfig): string {
  return config.builder === 'hvm' ? 'e1000' : 'virtio';
}

export function nicOptions(config: DomainConfig, placements: readonly NicPlacement[], bootIndex: ReadonlyMap<string, number>): QemuOption[] {
  const options: QemuOption[] = [];
  for (const p of placements) {
    const model = p.vif.model ?? defaultNicModel(config);
    const driver = NIC_MODELS[model];
    if (!driver) {
      throw new UnsupportedConfigError(`vif ${p.index}: NIC model '${model}' is not supported; use one of ${Object.keys(NIC_MODELS).join(', ')}`);
    }
    const netdev = p.tap
      ? 'tap,' + optList([['id', p.netdev], ['ifname', p.tap], ['script', 'no'], ['downscript', 'no']], `vif ${p.index}`)
      : 'user,' + optList([['id', p.netdev], ...hostfwdPairs(p.vif)], `vif ${p.index}`);
    options.push(['-netdev', netdev]);
    options.push([
      '-device',
      `${driver},` +
        optList(
          [
            ['netdev', p.netdev],
            ['mac', p.mac],
            ['id', p.id],
            ['bootindex', bootIndex.get(p.id)],
          ],
          `vif ${p.index}`,
        ),
    ]);
  }
  return options;
}

/** QEMU's `hostfwd=tcp:127.0.0.1:2222-:22` for each of the vif's port forwards. */
export function hostfwdRules(vif: VifSpec): string[] {
  const rules: string[] = [];
  for (const rule of vif.hostfwd?.split(' ').filter(Boolean) ?? []) {
    const r = parseHostfwd(rule);
    if ('error' in r) throw new UnsupportedConfigError(r.error);
    rules.push(`${r.proto}:${r.hostAddr}:${r.hostPort}-:${r.guestPort}`);
  }
  return rules;
}

function hostfwdPairs(vif: VifSpec): Array<[string, string]> {
  return hostfwdRules(vif).map((rule) => ['hostfwd', rule]);
}

/**
 * A Linux interface name (max 15 chars) that stays the same for this domain across restarts and
 * differs from every other domain's (Xen's vif<domid>.<n> is only known once the domain exists).
 * A name too long to fit whole keeps its start and adds a hash of the whole name, so two domains
 * whose names share a long prefix never collide.
 */
export function tapName(domainName: string, index: number): string {
  const suffix = `.${index}`;
  const room = 15 - 'vif'.length - suffix.length;
  const clean = domainName.replace(/[^A-Za-z0-9_-]/g, '');
  if (clean === domainName && clean.length <= room) return `vif${clean}${suffix}`;
  const hash = fnv1a(domainName).toString(16).padStart(8, '0').slice(0, 6);
  return `vif${clean.slice(0, Math.max(0, room - hash.length))}${hash}${suffix}`;
}

/** 32-bit FNV-1a: a stable, well-spread hash of a short string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
