// Migration without shared storage (--copy-storage), beyond Xen: the target creates empty images of
// the same sizes in its images dir and exports them over NBD from its incoming QEMU; the source
// mirrors every writable disk into them (blockdev-mirror, sync=full) while the guest runs, and
// starts the memory migration once all mirrors are in step. QEMU's NBD traffic goes through the
// engines: the source QEMU connects to a unix socket of its engine, which opens an authenticated
// relocation connection per NBD connection ("NBD <session>") that the target engine joins to its
// QEMU's NBD socket. When the memory stream completes, the mirrors are cancelled (in step, that
// leaves the copies complete) and the source's view of the disks is unchanged.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { DiskSpec, DomainConfig } from '../config/index.js';
import type { QmpClient } from '../qemu/index.js';
import { MigrationError, qemuImgFailure } from './errors.js';
import { QemuImg } from '../qemu/index.js';

export interface DiskSize {
  vdev: string;
  format: string;
  size: number;
}

/** The disks a copy-storage migration copies: writable, file or device backed. */
export function copiedDisks(config: DomainConfig): DiskSpec[] {
  return config.disk.filter((d) => d.devtype === 'disk' && d.access !== 'r' && d.target !== '');
}

export async function diskSizes(qmp: QmpClient, config: DomainConfig): Promise<DiskSize[]> {
  type Named = { 'node-name'?: string; image?: { 'virtual-size': number } };
  const nodes = await qmp.execute<Named[]>('query-named-block-nodes', { flat: true });
  return copiedDisks(config).map((d) => {
    const size = nodes.find((n) => n['node-name'] === `drive-${d.vdev}`)?.image?.['virtual-size'];
    if (!size) throw new MigrationError('MigrationFailed', `cannot tell the size of disk ${d.vdev}`);
    return { vdev: d.vdev, format: d.format, size };
  });
}

/** Target: empty images of the source's sizes in `imagesDir`, and the config pointing at them. */
export async function createTargetDisks(config: DomainConfig, sizes: DiskSize[], imagesDir: string): Promise<{ config: DomainConfig; created: string[] }> {
  await mkdir(imagesDir, { recursive: true });
  const created: string[] = [];
  try {
    const disk = [];
    for (const d of config.disk) {
      const s = sizes.find((x) => x.vdev === d.vdev);
      if (!s || !copiedDisks(config).includes(d)) {
        disk.push(d);
        continue;
      }
      const format = s.format === 'qcow2' ? 'qcow2' : 'raw';
      const target = join(imagesDir, `${config.name}-${d.vdev}.${format === 'raw' ? 'img' : 'qcow2'}`);
      if (existsSync(target)) throw new MigrationError('MigrationFailed', `${target} exists on the target; move it away first`);
      await new QemuImg().create({ path: target, format, size: s.size }).catch(qemuImgFailure('MigrationFailed'));
      created.push(target);
      disk.push({ ...d, target, format: format as DiskSpec['format'], backend: format === 'qcow2' ? ('tap' as const) : ('file' as const) });
    }
    return { config: { ...config, disk }, created };
  } catch (err) {
    for (const path of created) await rm(path, { force: true });
    throw err;
  }
}

/** Target: export the incoming QEMU's disks over NBD on a unix socket in its runtime dir. */
export async function exportDisks(qmp: QmpClient, runtimeDir: string, vdevs: string[]): Promise<string> {
  const path = join(runtimeDir, 'nbd.sock');
  await qmp.execute('nbd-server-start', { addr: { type: 'unix', data: { path } } });
  for (const vdev of vdevs) {
    await qmp.execute('block-export-add', { type: 'nbd', id: `export-${vdev}`, 'node-name': `drive-${vdev}`, name: `drive-${vdev}`, writable: true });
  }
  return path;
}

export async function stopExport(qmp: QmpClient, vdevs: string[]): Promise<void> {
  for (const vdev of vdevs) await qmp.execute('block-export-del', { id: `export-${vdev}` }).catch(() => undefined);
  await qmp.execute('nbd-server-stop').catch(() => undefined);
}

export interface Mirrors {
  /** After the memory migration completed: stop mirroring (the copies are complete) and clean up. */
  finish(): Promise<void>;
  /** After a failure: the same, the source keeps its disks as they are. */
  abort(): Promise<void>;
}

/**
 * Source: mirror each disk into the target's NBD exports, reached through `openTunnel` (a new
 * authenticated relocation connection per NBD connection). Resolves once every mirror is in step.
 */
export async function mirrorDisks(qmp: QmpClient, runtimeDir: string, vdevs: string[], openTunnel: () => Promise<net.Socket>): Promise<Mirrors> {
  const tunnelPath = join(runtimeDir, `nbd-tunnel-${randomBytes(4).toString('hex')}.sock`);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((local) => {
    sockets.add(local);
    local.pause();
    openTunnel().then(
      (remote) => {
        sockets.add(remote);
        local.pipe(remote);
        remote.pipe(local);
        local.resume();
        const close = () => {
          local.destroy();
          remote.destroy();
        };
        local.once('close', close);
        remote.once('close', close);
        local.on('error', close);
        remote.on('error', close);
      },
      () => local.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(tunnelPath, () => resolve());
  });
  const jobIds = vdevs.map((v) => `mirror-${v}`);
  const cleanup = async () => {
    for (const id of jobIds) await qmp.execute('job-cancel', { id }).catch(() => undefined);
    // Wait (bounded) for the jobs to end, then drop them and the NBD nodes.
    for (let i = 0; i < 200; i++) {
      const jobs = await qmp.execute<Array<{ id: string; status: string }>>('query-jobs').catch(() => []);
      const mine = jobs.filter((j) => jobIds.includes(j.id));
      for (const j of mine) if (j.status === 'concluded') await qmp.execute('job-dismiss', { id: j.id }).catch(() => undefined);
      if (mine.every((j) => j.status === 'concluded' || j.status === 'null')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const v of vdevs) await qmp.execute('blockdev-del', { 'node-name': `nbd-${v}` }).catch(() => undefined);
    server.close();
    for (const s of sockets) s.destroy();
    await rm(tunnelPath, { force: true });
  };
  try {
    for (const v of vdevs) {
      await qmp.execute('blockdev-add', { driver: 'nbd', 'node-name': `nbd-${v}`, server: { type: 'unix', path: tunnelPath }, export: `drive-${v}` });
      await qmp.execute('blockdev-mirror', { 'job-id': `mirror-${v}`, device: `drive-${v}`, target: `nbd-${v}`, sync: 'full', 'auto-dismiss': false });
    }
    for (;;) {
      const jobs = await qmp.execute<Array<{ id: string; status: string; error?: string }>>('query-jobs');
      const mine = jobs.filter((j) => jobIds.includes(j.id));
      const failed = mine.find((j) => j.status === 'concluded' || j.status === 'aborting');
      if (failed) throw new MigrationError('MigrationFailed', `copying disk ${failed.id.slice(7)} failed${failed.error ? `: ${failed.error}` : ''}`);
      if (mine.length === jobIds.length && mine.every((j) => j.status === 'ready')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { finish: cleanup, abort: cleanup };
}
