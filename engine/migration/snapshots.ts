// Snapshots: qcow2 internal snapshots of every writable disk, with the guest's memory for a
// running (or paused) domain (QEMU's snapshot-save/-load/-delete jobs), disks only for a stopped
// one (qemu-img snapshot). QEMU keeps the snapshots inside the images; the tree (parent, current),
// descriptions and times are ours, in <data>/snapshots/<domain>.json, written atomically.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { Dom0Paths } from '../common/paths.js';
import type { DiskSpec, DomainConfig } from '../config/index.js';
import { DomainError, type DomainDefinitions, type DomainManager } from '../domains/index.js';
import { type QmpClient } from '../qemu/index.js';
import { MigrationError, qemuImgFailure } from './errors.js';
import { QemuImg } from '../qemu/index.js';
import { runJobs } from './jobs.js';

export interface SnapshotRecord {
  name: string;
  description: string;
  createdAt: number;
  state: 'running' | 'paused' | 'shutoff';
  parent?: string;
  vmStateSize: number;
}

export interface SnapshotView extends SnapshotRecord {
  current: boolean;
}

interface SnapshotFile {
  current?: string;
  snapshots: SnapshotRecord[];
}

const SNAPSHOT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

export class Snapshots {
  readonly #manager: DomainManager;
  readonly #definitions: DomainDefinitions;
  readonly #dir: string;
  /** One snapshot operation per domain at a time: the metadata file is read-modify-write. */
  readonly #busy = new Set<string>();

  constructor(opts: { manager: DomainManager; definitions: DomainDefinitions; paths: Dom0Paths }) {
    this.#manager = opts.manager;
    this.#definitions = opts.definitions;
    this.#dir = join(opts.paths.dataDir, 'snapshots');
  }

  async list(domain: string): Promise<SnapshotView[]> {
    const name = (await this.#target(domain)).name;
    const file = await this.#read(name);
    return file.snapshots.map((s) => ({ ...s, current: s.name === file.current }));
  }

  async create(domain: string, snapshot: string, description = ''): Promise<SnapshotView> {
    if (!SNAPSHOT_NAME.test(snapshot)) {
      throw new MigrationError('SnapshotError', `'${snapshot}' is not a valid snapshot name: use 1-64 letters, digits, '_', '.', '+' or '-'`);
    }
    const target = await this.#target(domain);
    return this.#exclusive(target.name, async () => {
      const file = await this.#read(target.name);
      if (file.snapshots.some((s) => s.name === snapshot)) {
        throw new MigrationError('SnapshotError', `domain '${target.name}' already has a snapshot '${snapshot}'; delete it or choose another name`);
      }
      const disks = snapshotDisks(target.config);
      let state: SnapshotRecord['state'] = 'shutoff';
      let vmStateSize = 0;
      if (target.qmp) {
        state = target.status === 'paused' ? 'paused' : 'running';
        const id = jobId('snap-save');
        await runJobs(
          target.qmp,
          'snapshot-save',
          { 'job-id': id, tag: snapshot, vmstate: disks[0]!.node, devices: disks.map((d) => d.node) },
          [id],
          { describe: `snapshot '${snapshot}' of '${target.name}'`, fail: (m) => new MigrationError('SnapshotError', m) },
        );
        vmStateSize = await vmStateSizeOf(target.qmp, disks[0]!.node, snapshot);
      } else {
        for (const d of disks) await new QemuImg().snapshot('create', snapshot, d.disk.target).catch(qemuImgFailure('SnapshotError'));
      }
      const record: SnapshotRecord = { name: snapshot, description, createdAt: Date.now(), state, parent: file.current, vmStateSize };
      file.snapshots.push(record);
      file.current = snapshot;
      await this.#write(target.name, file);
      return { ...record, current: true };
    });
  }

  /** Go back to a snapshot: disks, and memory too when it has it (the domain then runs as it did then). */
  async revert(domain: string, snapshot: string): Promise<SnapshotView> {
    const target = await this.#target(domain);
    return this.#exclusive(target.name, async () => {
      const file = await this.#read(target.name);
      const record = file.snapshots.find((s) => s.name === snapshot);
      if (!record) throw new MigrationError('NoSuchSnapshot', `domain '${target.name}' has no snapshot '${snapshot}' (xm snapshot-list ${target.name})`);
      const disks = snapshotDisks(target.config);
      if (record.state === 'shutoff') {
        if (target.qmp) {
          throw new MigrationError('SnapshotError', `snapshot '${snapshot}' holds disks only (taken while '${target.name}' was off): shut the domain down, then revert`);
        }
        for (const d of disks) await new QemuImg().snapshot('apply', snapshot, d.disk.target).catch(qemuImgFailure('SnapshotError'));
      } else {
        let qmp = target.qmp;
        if (!qmp) {
          // A stopped domain goes back to a memory snapshot by starting (paused) and loading it.
          const info = await this.#manager.create(target.config, { paused: true });
          qmp = this.#manager.qmpOf(info.domid, 'snapshot');
        }
        await this.#load(qmp, snapshot, disks);
        const status = (await qmp.execute<{ status: string }>('query-status')).status;
        if (record.state === 'running' && status !== 'running') await this.#manager.unpause(target.name);
        if (record.state === 'paused' && status === 'running') await this.#manager.pause(target.name);
      }
      file.current = snapshot;
      await this.#write(target.name, file);
      return { ...record, current: true };
    });
  }

  async delete(domain: string, snapshot: string): Promise<void> {
    const target = await this.#target(domain);
    await this.#exclusive(target.name, async () => {
      const file = await this.#read(target.name);
      const record = file.snapshots.find((s) => s.name === snapshot);
      if (!record) throw new MigrationError('NoSuchSnapshot', `domain '${target.name}' has no snapshot '${snapshot}' (xm snapshot-list ${target.name})`);
      const disks = snapshotDisks(target.config);
      if (target.qmp) {
        const id = jobId('snap-del');
        await runJobs(
          target.qmp,
          'snapshot-delete',
          { 'job-id': id, tag: snapshot, devices: disks.map((d) => d.node) },
          [id],
          { describe: `deleting snapshot '${snapshot}'`, fail: (m) => new MigrationError('SnapshotError', m) },
        );
      } else {
        for (const d of disks) await new QemuImg().snapshot('delete', snapshot, d.disk.target).catch(qemuImgFailure('SnapshotError'));
      }
      // Its children hang from its parent now; the tree keeps its shape.
      for (const s of file.snapshots) if (s.parent === snapshot) s.parent = record.parent;
      file.snapshots = file.snapshots.filter((s) => s.name !== snapshot);
      if (file.current === snapshot) file.current = record.parent;
      await this.#write(target.name, file);
    });
  }

  /** Forget a domain's snapshot records (its images went away with it). */
  async forget(domain: string): Promise<void> {
    await rm(join(this.#dir, `${domain}.json`), { force: true });
  }

  async #load(qmp: QmpClient, snapshot: string, disks: SnapshotDisk[]): Promise<void> {
    const id = jobId('snap-load');
    await runJobs(
      qmp,
      'snapshot-load',
      { 'job-id': id, tag: snapshot, vmstate: disks[0]!.node, devices: disks.map((d) => d.node) },
      [id],
      { describe: `reverting to snapshot '${snapshot}'`, fail: (m) => new MigrationError('SnapshotError', m) },
    );
  }

  async #target(domain: string): Promise<{ name: string; config: DomainConfig; qmp?: QmpClient; status?: string }> {
    const running = this.#manager.lookup(domain);
    if (running) {
      return { name: running.name, config: this.#manager.configOf(running.domid), qmp: this.#manager.qmpOf(running.domid, 'snapshot'), status: running.status };
    }
    const def = await this.#definitions.get(domain);
    if (!def) throw new DomainError('NoSuchDomain', `Domain '${domain}' does not exist.`);
    return { name: def.name, config: def.config };
  }

  async #exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy.has(name)) throw new MigrationError('SnapshotError', `a snapshot operation on '${name}' is in progress; try again when it has finished`);
    this.#busy.add(name);
    try {
      return await fn();
    } finally {
      this.#busy.delete(name);
    }
  }

  async #read(name: string): Promise<SnapshotFile> {
    try {
      return JSON.parse(await readFile(join(this.#dir, `${name}.json`), 'utf8')) as SnapshotFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { snapshots: [] };
      throw err;
    }
  }

  async #write(name: string, file: SnapshotFile): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await writeFileAtomic(join(this.#dir, `${name}.json`), JSON.stringify(file, null, 2) + '\n', 0o600);
  }
}

interface SnapshotDisk {
  disk: DiskSpec;
  /** QEMU's format node name (engine/qemu/argv/disks.ts): `drive-<vdev>`. */
  node: string;
}

/** The disks a snapshot covers: every writable disk, all of which must be qcow2. */
export function snapshotDisks(config: DomainConfig): SnapshotDisk[] {
  const writable = config.disk.filter((d) => d.devtype === 'disk' && d.access !== 'r' && d.target !== '');
  const raw = writable.filter((d) => d.format !== 'qcow2');
  if (raw.length > 0) {
    const list = raw.map((d) => `${d.vdev} (${d.target}, ${d.format})`).join(', ');
    throw new MigrationError(
      'UnsupportedDisk',
      `snapshots need qcow2 disks, and ${list} ${raw.length === 1 ? 'is' : 'are'} not; convert with 'qemu-img convert -O qcow2 IMAGE NEW.qcow2' and use tap:qcow2:NEW.qcow2`,
    );
  }
  if (writable.length === 0) throw new MigrationError('UnsupportedDisk', `domain '${config.name}' has no writable qcow2 disk to hold a snapshot`);
  return writable.map((disk) => ({ disk, node: `drive-${disk.vdev}` }));
}

async function vmStateSizeOf(qmp: QmpClient, node: string, tag: string): Promise<number> {
  type Named = { 'node-name'?: string; image?: { snapshots?: Array<{ name: string; 'vm-state-size': number }> } };
  const nodes = await qmp.execute<Named[]>('query-named-block-nodes', { flat: true });
  const snap = nodes.find((n) => n['node-name'] === node)?.image?.snapshots?.find((s) => s.name === tag);
  return snap?.['vm-state-size'] ?? 0;
}


function jobId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
