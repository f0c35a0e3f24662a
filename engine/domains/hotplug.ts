// Device hotplug on live domains, through QMP (what Xen's block-attach / network-attach did with
// its backends): disks are a protocol node + a format node (blockdev-add) and a virtio-blk-pci
// device (device_add) on one of the spare PCIe root ports; NICs a netdev (netdev_add) and a NIC
// device. Removal asks the guest to release the device (device_del), waits for DEVICE_DELETED,
// then drops the backend. Each step is undone if a later one fails, so nothing is left half-done.
// The config the domain runs with is updated after success (the manager records it).
//
// Device ids follow the boot-time argv (engine/qemu/argv): disk-<vdev> / drive-<vdev>, nic<k> / net<k>.

import { realpathSync } from 'node:fs';
import { parseDiskSpec, type DiskSpec, type VifSpec } from '../config/index.js';
import { attachTap, bridgeExists, type HostNet } from '../network/index.js';
import { HOTPLUG_PORTS, NIC_MODELS, hostfwdRules, hotplugPortId, iscsiProtocol, tapName, type QmpClient } from '../qemu/index.js';
import { DomainError } from './errors.js';
import { randomXenMac } from './mac.js';
import type { DomainManager, LiveDomain } from './manager.js';

/** PCI NIC models (hotplug needs PCI). */
const HOT_NIC_MODELS = ['virtio', 'virtio-net', 'e1000', 'e1000e', 'rtl8139'];

/** How long the guest gets to release a device before detach gives up (TCG guests are slow). */
const RELEASE_TIMEOUT_MS = 30_000;

export interface HotplugOptions extends HostNet {
  /** MACs in use on this host (every domain), so a new NIC's generated MAC is unique. */
  macsInUse?: () => Set<string>;
}

/** Attach a disk to a running domain (xm block-attach). Only virtio disks (xvdX) can be hot-added. */
export async function blockAttach(manager: DomainManager, ref: string | number, disk: DiskSpec): Promise<DiskSpec> {
  const d = manager.live(ref, 'attach a disk to');
  if (d.config.disk.some((x) => x.vdev === disk.vdev)) {
    throw new DomainError('InvalidState', `domain '${d.name}' already has a disk ${disk.vdev}; choose another device name`);
  }
  if (!/^xvd[a-z]+$/.test(disk.vdev) || disk.devtype !== 'disk') {
    throw new DomainError('InvalidState', `only virtio disks (xvdb, xvdc, ...) can be added to a running domain; ${disk.vdev}${disk.devtype === 'cdrom' ? ' (a CD-ROM)' : ''} needs the domain shut down`);
  }
  if (disk.target === '') throw new DomainError('InvalidState', 'a hot-added disk needs an image or device');
  const bus = await freePort(d.qmp, d.name);
  const node = `drive-${disk.vdev}`;
  const readOnly = disk.access === 'r';
  const protocol =
    disk.backend === 'iscsi'
      ? iscsiProtocol(disk.target)
      : { driver: disk.backend === 'phy' ? 'host_device' : 'file', filename: disk.target, ...(disk.access === 'w!' ? { locking: 'off' } : {}) };
  await d.qmp.execute('blockdev-add', { ...protocol, 'node-name': `${node}-file`, 'read-only': readOnly });
  try {
    await d.qmp.execute('blockdev-add', { driver: disk.format, file: `${node}-file`, 'node-name': node, 'read-only': readOnly });
    try {
      await d.qmp.execute('device_add', { driver: 'virtio-blk-pci', drive: node, id: `disk-${disk.vdev}`, bus, ...(disk.access === 'w!' ? { 'share-rw': true } : {}) });
    } catch (err) {
      await d.qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    await d.qmp.execute('blockdev-del', { 'node-name': `${node}-file` }).catch(() => undefined);
    throw hotplugError(err, `attaching ${disk.vdev}`);
  }
  await manager.commitDevices(d.domid, { ...d.config, disk: [...d.config.disk, disk] }, d.macs, `attached ${disk.vdev}`);
  return disk;
}

/** Detach a disk (xm block-detach): by vdev (xvdb) or Xen device number (51728). */
export async function blockDetach(manager: DomainManager, ref: string | number, dev: string, devidOf: (vdev: string) => number): Promise<DiskSpec> {
  const d = manager.live(ref, 'detach a disk from');
  const disk = d.config.disk.find((x) => x.vdev === dev || String(devidOf(x.vdev)) === dev);
  if (!disk) throw new DomainError('InvalidState', `domain '${d.name}' has no disk ${dev} (see block-list)`);
  if (disk.devtype === 'cdrom') throw new DomainError('InvalidState', `${disk.vdev} is a CD-ROM drive: eject its medium instead, or remove the drive with the domain shut down`);
  const id = `disk-${disk.vdev}`;
  const node = `drive-${disk.vdev}`;
  await unplug(d, id, disk.vdev);
  // The device is gone from the guest; its block nodes go with it (boot-time ones may be auto-deleted).
  await d.qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
  await d.qmp.execute('blockdev-del', { 'node-name': `${node}-file` }).catch(() => undefined);
  await manager.commitDevices(d.domid, { ...d.config, disk: d.config.disk.filter((x) => x !== disk) }, d.macs, `detached ${disk.vdev}`);
  return disk;
}

/** Insert (target) or eject ('' target) a CD-ROM drive's medium. */
export async function mediaChange(manager: DomainManager, ref: string | number, vdev: string, target: string, format: DiskSpec['format'] = 'raw'): Promise<DiskSpec> {
  const d = manager.live(ref, 'change media of');
  const disk = d.config.disk.find((x) => x.vdev === vdev);
  if (!disk || disk.devtype !== 'cdrom') throw new DomainError('InvalidState', `domain '${d.name}' has no CD-ROM drive ${vdev}`);
  const id = `disk-${vdev}`;
  try {
    if (target === '') await d.qmp.execute('eject', { id, force: true });
    else await d.qmp.execute('blockdev-change-medium', { id, filename: target, format, 'read-only-mode': 'read-only' });
  } catch (err) {
    throw hotplugError(err, target === '' ? `ejecting ${vdev}` : `inserting a medium into ${vdev}`);
  }
  const changed: DiskSpec = { ...disk, target, format: target === '' ? disk.format : format, backend: target === '' ? disk.backend : 'file' };
  await manager.commitDevices(d.domid, { ...d.config, disk: d.config.disk.map((x) => (x === disk ? changed : x)) }, d.macs, target === '' ? `ejected ${vdev}` : `inserted ${target} into ${vdev}`);
  return changed;
}

/** Attach a NIC (xm network-attach): NAT unless the vif names a bridge. Returns the vif as recorded, MAC filled in. */
export async function nicAttach(manager: DomainManager, ref: string | number, vif: VifSpec, opts: HotplugOptions = {}): Promise<VifSpec> {
  const d = manager.live(ref, 'attach a NIC to');
  const model = vif.model ?? 'virtio';
  const driver = NIC_MODELS[model];
  if (!driver || !HOT_NIC_MODELS.includes(model)) {
    throw new DomainError('InvalidState', `NIC model '${model}' cannot be hot-added; use virtio, e1000 or rtl8139`);
  }
  if (vif.bridge && !bridgeExists(vif.bridge, opts)) {
    throw new DomainError('InvalidState', `bridge ${vif.bridge} does not exist; create it (xm net-define, or ip link add ${vif.bridge} type bridge), or use NAT by leaving bridge= out`);
  }
  const inUse = new Set([...(opts.macsInUse?.() ?? []), ...d.macs]);
  const mac = vif.mac ?? randomXenMac(inUse);
  if (vif.mac && inUse.has(vif.mac)) throw new DomainError('InvalidState', `MAC ${vif.mac} is in use on this host already; leave mac= out for a fresh one`);
  const used = await peripheralIds(d.qmp);
  let k = 0;
  while (used.has(`nic${k}`) || used.has(`net${k}`)) k++;
  const index = d.config.vif.length;
  const tap = vif.bridge ? (vif.vifname ?? tapName(d.name, k)) : undefined;
  const bus = await freePort(d.qmp, d.name);
  const netdev = tap
    ? { type: 'tap', id: `net${k}`, ifname: tap, script: 'no', downscript: 'no' }
    : { type: 'user', id: `net${k}`, ...(vif.hostfwd ? { hostfwd: hostfwdRules(vif).map((str) => ({ str })) } : {}) };
  try {
    await d.qmp.execute('netdev_add', netdev);
  } catch (err) {
    throw hotplugError(err, `adding the backend of NIC ${index}`);
  }
  let added = false;
  try {
    await d.qmp.execute('device_add', { driver, netdev: `net${k}`, mac, id: `nic${k}`, bus });
    added = true;
    if (tap && vif.bridge) await attachTap(tap, vif.bridge);
  } catch (err) {
    if (added) await unplug(d, `nic${k}`, `NIC ${mac}`).catch(() => undefined);
    await d.qmp.execute('netdev_del', { id: `net${k}` }).catch(() => undefined);
    throw hotplugError(err, `adding NIC ${index}`);
  }
  // The tap's name is recorded so a restart (and network-list) uses the one it really has.
  const recorded: VifSpec = { ...vif, mac, ...(tap ? { vifname: tap } : {}) };
  await manager.commitDevices(d.domid, { ...d.config, vif: [...d.config.vif, recorded] }, [...d.macs, mac], `attached NIC ${mac}`);
  return recorded;
}

/** Detach a NIC (xm network-detach): by index (Xen's devid) or MAC. */
export async function nicDetach(manager: DomainManager, ref: string | number, dev: string): Promise<VifSpec> {
  const d = manager.live(ref, 'detach a NIC from');
  const lower = dev.toLowerCase();
  const index = /^\d+$/.test(dev) ? Number(dev) : d.macs.indexOf(lower);
  if (index < 0 || index >= d.config.vif.length) throw new DomainError('InvalidState', `domain '${d.name}' has no NIC ${dev} (see network-list)`);
  const mac = d.macs[index]!;
  const id = await nicIdByMac(d.qmp, mac);
  if (!id) throw new DomainError('InvalidState', `NIC ${mac} of domain '${d.name}' is not in its QEMU`);
  await unplug(d, id, `NIC ${mac}`);
  await d.qmp.execute('netdev_del', { id: id.replace(/^nic/, 'net') }).catch(() => undefined);
  const vif = d.config.vif[index]!;
  await manager.commitDevices(
    d.domid,
    { ...d.config, vif: d.config.vif.filter((_, i) => i !== index) },
    d.macs.filter((_, i) => i !== index),
    `detached NIC ${mac}`,
  );
  return vif;
}

/** Ask the guest to release a device and wait until QEMU has removed it. */
async function unplug(d: LiveDomain, id: string, what: string): Promise<void> {
  const deleted = d.qmp.events.waitFor('DEVICE_DELETED', { predicate: (e) => (e.data as { device?: string }).device === id, timeoutMs: RELEASE_TIMEOUT_MS });
  try {
    await d.qmp.execute('device_del', { id });
  } catch (err) {
    deleted.catch(() => undefined);
    const desc = (err as { desc?: string }).desc ?? (err as Error).message;
    if (/does not support hotplugging/.test(desc)) {
      throw new DomainError('InvalidState', `${what} of domain '${d.name}' was there at boot on a slot without hotplug; remove it with the domain shut down`);
    }
    throw hotplugError(err, `removing ${what}`);
  }
  await deleted.catch(() => {
    throw new DomainError('InvalidState', `the guest did not release ${what} within ${RELEASE_TIMEOUT_MS / 1000} s; it must support PCI hot-unplug (ACPI), or shut it down to remove the device`);
  });
}

/** The first spare root port with nothing behind it. */
async function freePort(qmp: QmpClient, name: string): Promise<string> {
  type PciDevice = { qdev_id?: string; pci_bridge?: { devices?: unknown[] } };
  const buses = await qmp.execute<Array<{ devices: PciDevice[] }>>('query-pci');
  const ports = new Map<string, boolean>();
  for (const dev of buses[0]?.devices ?? []) {
    if (dev.qdev_id?.startsWith('hotplug')) ports.set(dev.qdev_id, (dev.pci_bridge?.devices?.length ?? 0) === 0);
  }
  if (ports.size === 0) {
    throw new DomainError('InvalidState', `domain '${name}' was started without spare PCIe slots (by an older engine); restart it to hot-add devices`);
  }
  for (let n = 0; n < HOTPLUG_PORTS; n++) if (ports.get(hotplugPortId(n))) return hotplugPortId(n);
  throw new DomainError('InvalidState', `domain '${name}' has no free hotplug slot left (${HOTPLUG_PORTS} devices were added while it runs); restart it to add more`);
}

async function peripheralIds(qmp: QmpClient): Promise<Set<string>> {
  const children = await qmp.execute<Array<{ name: string }>>('qom-list', { path: '/machine/peripheral' });
  return new Set(children.map((c) => c.name));
}

async function nicIdByMac(qmp: QmpClient, mac: string): Promise<string | undefined> {
  for (const id of await peripheralIds(qmp)) {
    if (!/^nic\d+$/.test(id)) continue;
    const value = await qmp.execute<string>('qom-get', { path: `/machine/peripheral/${id}`, property: 'mac' }).catch(() => undefined);
    if (value?.toLowerCase() === mac) return id;
  }
  return undefined;
}

function hotplugError(err: unknown, what: string): Error {
  if (err instanceof DomainError) return err;
  const desc = (err as { desc?: string }).desc ?? (err as Error).message;
  return new DomainError('InvalidState', `${what} failed: ${desc}`);
}

/**
 * Grow an image that a running domain has open, through its QEMU (qemu-img cannot: QEMU holds the
 * image's write lock). The guest sees the new capacity (virtio-blk reports it at once). False when
 * no running domain has the image.
 */
export async function liveResize(manager: DomainManager, path: string, bytes: number): Promise<boolean> {
  const real = realpathOr(path);
  for (const info of manager.list()) {
    const disk = manager.configOf(info.domid).disk.find((x) => x.target !== '' && realpathOr(x.target) === real);
    if (!disk) continue;
    const d = manager.live(info.domid, 'resize a disk of');
    try {
      await d.qmp.execute('block_resize', { 'node-name': `drive-${disk.vdev}`, size: bytes });
    } catch (err) {
      throw hotplugError(err, `resizing ${disk.vdev} of domain '${d.name}'`);
    }
    return true;
  }
  return false;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `xm block-attach D backdev frontdev mode` → the disk spec the config grammar reads. */
export function diskFromXm(backdev: string, frontdev: string, mode: string): DiskSpec {
  return parseDiskSpec(`${backdev},${frontdev},${mode}`);
}
