// Storage pools and their volumes, as virt-manager shows them: directory pools (the default one
// is <data>/images; users add any folder) holding image files, and iSCSI pools (a portal and a
// target IQN, engine/storage/iscsi.ts) whose volumes are the target's LUNs. Pool definitions live in
// <config>/storage-pools.json, written atomically. Every image operation is qemu-img with argv.
//
// Who may name which path: a volume is always a plain file name inside a pool's directory; paths
// given whole (backing files, import sources) must lie inside a pool unless the caller is local
// (the unix socket: the user's own tools, with the user's own rights).

import { existsSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { Dom0Paths } from '../common/paths.js';
import { StorageError } from './errors.js';
import { QemuImg, QemuImgError } from '../qemu/index.js';
import { isSafeAbsolutePath } from '../common/safe-path.js';
import { formatPortal } from '../config/index.js';
import { iscsiBaseUrl, iscsiSource, listIscsiLuns, type IscsiLunInfo } from './iscsi.js';

export type VolumeFormat = 'qcow2' | 'raw';

export interface PoolInfo {
  name: string;
  type: 'dir' | 'iscsi';
  /** The folder; for iSCSI `iscsi://portal/iqn`. */
  path: string;
  /** Bytes of the filesystem the pool is on. */
  capacity: number;
  /** Bytes used on that filesystem. */
  allocation: number;
  /** Bytes still free for an unprivileged writer. */
  available: number;
  volumes: number;
}

export interface VolumeInfo {
  pool: string;
  name: string;
  path: string;
  format: string;
  /** Guest-visible size in bytes. */
  capacity: number;
  /** Bytes the image takes on the host. */
  allocation: number;
  backingFile?: string;
  /** Domains whose config names this image. */
  usedBy: string[];
}

export interface StorageOptions {
  paths: Dom0Paths;
  qemuImg: string;
  /** Image path (as configs name it) → the domains using it: running and defined ones. */
  usedBy(): Promise<Map<string, string[]>>;
  /** Grow an image a running domain has open (QMP block_resize); false if no running domain has it. */
  liveResize?(path: string, bytes: number): Promise<boolean>;
  /** A pool's content or free space changed. */
  onChange?(pool: string): void;
}

interface DirRecord {
  name: string;
  type: 'dir';
  path: string;
}

/** An iSCSI target; `path` is its base URL, so listings show one address column for both kinds. */
interface IscsiRecord {
  name: string;
  type: 'iscsi';
  path: string;
  portal: string;
  iqn: string;
}

type PoolRecord = DirRecord | IscsiRecord;

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;
const DEFAULT_POOL = 'default';

export class StoragePools {
  readonly #o: StorageOptions;
  readonly #img: QemuImg;
  readonly #file: string;

  constructor(opts: StorageOptions) {
    this.#o = opts;
    this.#img = new QemuImg(opts.qemuImg);
    this.#file = join(opts.paths.configDir, 'storage-pools.json');
  }

  async listPools(): Promise<PoolInfo[]> {
    const out: PoolInfo[] = [];
    for (const p of await this.#records()) out.push(await this.#poolInfo(p));
    return out;
  }

  async pool(name: string): Promise<PoolInfo> {
    return this.#poolInfo(await this.#record(name));
  }

  /** Add a folder as a pool. The folder must exist (created only for the default pool). */
  async definePool(opts: { name: string; path: string }): Promise<PoolInfo> {
    checkName(opts.name, 'pool');
    if (!isSafeAbsolutePath(opts.path)) throw new StorageError('InvalidPath', `${opts.path}: give the pool folder as an absolute path`);
    if (!existsSync(opts.path) || !statSync(opts.path).isDirectory()) {
      throw new StorageError('InvalidPath', `${opts.path} is not an existing folder; create it first`);
    }
    const records = await this.#records();
    const real = realpathSync(opts.path);
    for (const r of records) {
      if (r.name === opts.name) throw new StorageError('PoolExists', `pool '${opts.name}' exists already`);
      if (safeRealpath(r.path) === real) throw new StorageError('PoolExists', `${opts.path} is pool '${r.name}' already`);
    }
    await this.#save([...records.filter((r) => r.name !== DEFAULT_POOL), { name: opts.name, type: 'dir', path: real }]);
    this.#o.onChange?.(opts.name);
    return this.pool(opts.name);
  }

  /**
   * Add an iSCSI target as a pool: checked on the spot (portal reachable, target offered, login
   * accepted), so a wrong portal or IQN is said now rather than when a domain starts.
   */
  async defineIscsiPool(opts: { name: string; portal: string; iqn: string }): Promise<PoolInfo> {
    checkName(opts.name, 'pool');
    const src = iscsiSource(opts.portal, opts.iqn);
    const records = await this.#records();
    const path = iscsiBaseUrl(src);
    for (const r of records) {
      if (r.name === opts.name) throw new StorageError('PoolExists', `pool '${opts.name}' exists already`);
      if (r.path === path) throw new StorageError('PoolExists', `${path} is pool '${r.name}' already`);
    }
    await listIscsiLuns(src, this.#img);
    await this.#save([...records.filter((r) => r.name !== DEFAULT_POOL), { name: opts.name, type: 'iscsi', path, portal: formatPortal(src.portal), iqn: src.iqn }]);
    this.#o.onChange?.(opts.name);
    return this.pool(opts.name);
  }

  /** Forget a pool; its files stay on disk. The default pool cannot be removed. */
  async removePool(name: string): Promise<void> {
    if (name === DEFAULT_POOL) throw new StorageError('InvalidName', `the default pool cannot be removed`);
    await this.#record(name);
    await this.#save((await this.#records()).filter((r) => r.name !== name && r.name !== DEFAULT_POOL));
    this.#o.onChange?.(name);
  }

  async listVolumes(poolName: string): Promise<VolumeInfo[]> {
    const record = await this.#record(poolName);
    const usedBy = await this.#usedByReal();
    if (record.type === 'iscsi') return (await this.#luns(record)).map((l) => lunVolume(record, l, usedBy));
    const pool = record;
    const out: VolumeInfo[] = [];
    for (const name of (await readdir(pool.path)).sort()) {
      if (!NAME.test(name)) continue; // hidden and temporary files
      const path = join(pool.path, name);
      try {
        if (!(await stat(path)).isFile()) continue;
        out.push(await this.#volumeInfo(pool, name, usedBy));
      } catch {
        // vanished meanwhile, or not an image qemu-img can read: not a volume
      }
    }
    return out;
  }

  async volume(poolName: string, name: string): Promise<VolumeInfo> {
    const record = await this.#record(poolName);
    if (record.type === 'iscsi') {
      const vol = (await this.listVolumes(poolName)).find((v) => v.name === name);
      if (!vol) throw new StorageError('NoSuchVolume', `pool ${poolName} has no volume ${name} (its volumes are the target's LUNs: lun1, lun2, ...)`);
      return vol;
    }
    const pool = record;
    return this.#volumeInfo(pool, await this.#existing(pool, name), await this.#usedByReal());
  }

  async createVolume(opts: {
    pool: string;
    name: string;
    /** Bytes; 0 with a backing file takes the backing file's size. */
    size: number;
    format: VolumeFormat;
    preallocate?: boolean;
    backingFile?: string;
    /** The caller is local (unix socket): backing files may be anywhere. */
    local?: boolean;
  }): Promise<VolumeInfo> {
    const pool = await this.#dirRecord(opts.pool, 'create volumes in');
    const path = this.#fresh(pool, opts.name);
    if (!(opts.size > 0 || (opts.backingFile && opts.size === 0)) || !Number.isSafeInteger(opts.size)) {
      throw new StorageError('InvalidSize', `size must be a positive number of bytes (e.g. 10G), got ${opts.size}`);
    }
    let backing: { path: string; format: string } | undefined;
    if (opts.backingFile) {
      if (opts.format !== 'qcow2') throw new StorageError('InvalidPath', 'a backing file needs a qcow2 volume');
      const real = await this.checkPath(opts.backingFile, opts.local ?? false);
      backing = { path: real, format: (await this.#img.info(real).catch(rethrowStorage)).format };
    }
    await this.#img.create({ path, format: opts.format, size: opts.size, preallocate: opts.preallocate ?? false, backing }).catch(async (err: unknown) => {
      // A file that appeared meanwhile is someone else's: only a half-made image of ours goes.
      if (err instanceof QemuImgError && err.reason === 'exists') throw new StorageError('VolumeExists', err.message);
      await rm(path, { force: true });
      throw asStorageError(err);
    });
    this.#o.onChange?.(pool.name);
    return this.volume(pool.name, opts.name);
  }

  /**
   * Grow (or, with force, shrink) a volume. An image a running domain has open is resized by that
   * domain's QEMU (the guest sees the new size); others by qemu-img. Shrinking loses data past the
   * new end, so it is refused unless forced, and always refused while a domain uses the volume.
   */
  async resizeVolume(opts: { pool: string; name: string; size: number; force?: boolean }): Promise<VolumeInfo> {
    await this.#dirRecord(opts.pool, 'resize volumes of');
    const vol = await this.volume(opts.pool, opts.name);
    if (!Number.isSafeInteger(opts.size) || opts.size <= 0) throw new StorageError('InvalidSize', `size must be a positive number of bytes, got ${opts.size}`);
    const shrink = opts.size < vol.capacity;
    if (shrink && !opts.force) {
      throw new StorageError('InvalidSize', `${opts.size} bytes is smaller than the volume (${vol.capacity}): data past the new end would be lost; force it if you mean it`);
    }
    if (shrink && vol.usedBy.length) {
      throw new StorageError('VolumeInUse', `volume ${opts.name} is used by ${vol.usedBy.join(', ')}: a volume in use can only grow`);
    }
    const live = !shrink && (await this.#o.liveResize?.(vol.path, opts.size));
    if (!live) await this.#img.resize({ path: vol.path, format: vol.format, size: opts.size, shrink }).catch(rethrowStorage);
    this.#o.onChange?.(opts.pool);
    return this.volume(opts.pool, opts.name);
  }

  /** Copy a volume (a full copy, not a backing-file overlay) within its pool or into another. */
  async cloneVolume(opts: { pool: string; name: string; newName: string; targetPool?: string; onProgress?: (percent: number) => void }): Promise<VolumeInfo> {
    const vol = await this.volume(opts.pool, opts.name);
    const target = await this.#dirRecord(opts.targetPool ?? opts.pool, 'clone into');
    const path = this.#fresh(target, opts.newName);
    await this.#convert(vol.path, path, vol.format === 'raw' ? 'raw' : 'qcow2', opts.onProgress);
    this.#o.onChange?.(target.name);
    return this.volume(target.name, opts.newName);
  }

  /** Import an image file (any format qemu-img reads) as a new volume, converted to `format`. */
  async importVolume(opts: { pool: string; name: string; source: string; format: VolumeFormat; local?: boolean; onProgress?: (percent: number) => void }): Promise<VolumeInfo> {
    const target = await this.#dirRecord(opts.pool, 'import into');
    const path = this.#fresh(target, opts.name);
    const source = await this.checkPath(opts.source, opts.local ?? false);
    await this.#convert(source, path, opts.format, opts.onProgress);
    this.#o.onChange?.(target.name);
    return this.volume(target.name, opts.name);
  }

  async deleteVolume(opts: { pool: string; name: string }): Promise<void> {
    await this.#dirRecord(opts.pool, 'delete volumes of');
    const vol = await this.volume(opts.pool, opts.name);
    if (vol.usedBy.length) {
      throw new StorageError('VolumeInUse', `volume ${opts.name} is used by ${vol.usedBy.join(', ')}; remove it from ${vol.usedBy.length > 1 ? 'their configs' : 'its config'} first`);
    }
    await rm(vol.path);
    this.#o.onChange?.(opts.pool);
  }

  /**
   * The real path of an existing image file a client names. Remote clients may only name files
   * inside a pool; local ones any regular file.
   */
  async checkPath(path: string, local: boolean): Promise<string> {
    if (!isSafeAbsolutePath(path)) throw new StorageError('InvalidPath', `${path}: give an absolute path without control characters`);
    const real = safeRealpath(path);
    if (!real || !statSync(real).isFile()) throw new StorageError('InvalidPath', `${path} is not an existing image file`);
    if (!local && !(await this.poolOf(real))) {
      throw new StorageError('InvalidPath', `${path} is outside the storage pools; remote clients may only use volumes of a pool`);
    }
    return real;
  }

  /** Is this iscsi:// address a LUN of a defined iSCSI pool? (Checked against the target's LUN list.) */
  async isPoolVolume(url: string): Promise<boolean> {
    for (const r of await this.#records()) {
      if (r.type === 'iscsi' && url.startsWith(`${r.path}/`) && (await this.#luns(r)).some((l) => l.url === url)) return true;
    }
    return false;
  }

  /** The pool whose folder holds this file (directly), if any. */
  async poolOf(path: string): Promise<{ pool: string; name: string } | undefined> {
    const real = safeRealpath(path) ?? path;
    for (const r of await this.#records()) {
      if (r.type !== 'dir') continue;
      const dir = safeRealpath(r.path);
      if (dir && real.startsWith(dir + sep) && !real.slice(dir.length + 1).includes(sep)) return { pool: r.name, name: real.slice(dir.length + 1) };
    }
    return undefined;
  }

  async #convert(source: string, target: string, format: VolumeFormat, onProgress?: (percent: number) => void): Promise<void> {
    // Written under a hidden name and renamed when complete: a failed copy leaves no half volume.
    const dir = target.slice(0, target.lastIndexOf(sep));
    const tmp = join(dir, `.${target.slice(dir.length + 1)}.part`);
    try {
      await this.#img.convert({ source, target: tmp, format, onProgress }).catch(rethrowStorage);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async #volumeInfo(pool: DirRecord, name: string, usedBy: Map<string, string[]>): Promise<VolumeInfo> {
    const path = join(pool.path, name);
    const info = await this.#img.info(path).catch(rethrowStorage);
    return {
      pool: pool.name,
      name,
      path,
      format: info.format,
      capacity: info.virtualSize,
      allocation: info.actualSize,
      backingFile: info.backingFile,
      usedBy: usedBy.get(safeRealpath(path) ?? path) ?? [],
    };
  }

  async #usedByReal(): Promise<Map<string, string[]>> {
    const real = new Map<string, string[]>();
    for (const [path, domains] of await this.#o.usedBy()) {
      const key = safeRealpath(path) ?? path;
      real.set(key, [...new Set([...(real.get(key) ?? []), ...domains])].sort());
    }
    return real;
  }

  async #poolInfo(p: PoolRecord): Promise<PoolInfo> {
    if (p.type === 'iscsi') {
      // A target's LUNs are provisioned whole: capacity and allocation are their sum, nothing is free.
      const luns = await this.#luns(p);
      const total = luns.reduce((sum, l) => sum + l.size, 0);
      return { name: p.name, type: 'iscsi', path: p.path, capacity: total, allocation: total, available: 0, volumes: luns.length };
    }
    const fs = statfsSync(p.path);
    const files = (await readdir(p.path)).filter((n) => NAME.test(n));
    return {
      name: p.name,
      type: p.type,
      path: p.path,
      capacity: fs.blocks * fs.bsize,
      allocation: (fs.blocks - fs.bfree) * fs.bsize,
      available: fs.bavail * fs.bsize,
      volumes: files.length,
    };
  }

  /** A new volume's path; refuses bad names and names taken. */
  #fresh(pool: DirRecord, name: string): string {
    checkName(name, 'volume');
    const path = join(pool.path, name);
    if (existsSync(path)) throw new StorageError('VolumeExists', `volume ${name} exists in pool ${pool.name} already; choose another name`);
    return path;
  }

  async #existing(pool: DirRecord, name: string): Promise<string> {
    checkName(name, 'volume');
    const path = join(pool.path, name);
    if (!existsSync(path) || !statSync(path).isFile()) throw new StorageError('NoSuchVolume', `pool ${pool.name} has no volume ${name}`);
    return name;
  }

  /** A directory pool, or NotSupported naming what an iSCSI pool cannot do. */
  async #dirRecord(name: string, what: string): Promise<DirRecord> {
    const r = await this.#record(name);
    if (r.type !== 'dir') {
      throw new StorageError('NotSupported', `cannot ${what} iSCSI pool '${name}': its volumes are the target's LUNs, made and removed on the target itself`);
    }
    return r;
  }

  async #luns(r: IscsiRecord): Promise<IscsiLunInfo[]> {
    return listIscsiLuns(iscsiSource(r.portal, r.iqn), this.#img);
  }

  async #record(name: string): Promise<PoolRecord> {
    const r = (await this.#records()).find((p) => p.name === name);
    if (!r) throw new StorageError('NoSuchPool', `no storage pool '${name}' (see pool-list)`);
    return r;
  }

  /** The defined pools, the default one first (its folder is made on first use). */
  async #records(): Promise<PoolRecord[]> {
    let stored: PoolRecord[] = [];
    try {
      stored = (JSON.parse(await readFile(this.#file, 'utf8')) as PoolRecord[]).filter((r) => r && typeof r.name === 'string' && typeof r.path === 'string');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StorageError('InvalidPath', `${this.#file} is not readable JSON (${(err as Error).message}); fix or remove it`);
    }
    await mkdir(this.#o.paths.imagesDir, { recursive: true });
    return [{ name: DEFAULT_POOL, type: 'dir', path: this.#o.paths.imagesDir }, ...stored.filter((r) => r.name !== DEFAULT_POOL && (r.type === 'iscsi' || existsSync(r.path)))];
  }

  async #save(records: PoolRecord[]): Promise<void> {
    await mkdir(this.#o.paths.configDir, { recursive: true });
    await writeFileAtomic(this.#file, JSON.stringify(records, null, 2) + '\n');
  }
}

function lunVolume(pool: IscsiRecord, l: IscsiLunInfo, usedBy: Map<string, string[]>): VolumeInfo {
  return { pool: pool.name, name: `lun${l.lun}`, path: l.url, format: 'raw', capacity: l.size, allocation: l.size, usedBy: usedBy.get(l.url) ?? [] };
}

/** `10G`, `512M`, `1.5T`, `4096` → bytes (binary units, as qemu-img reads them). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|[kmgt]|B)?$/.exec(text.trim());
  if (!m) throw new StorageError('InvalidSize', `'${text}' is not a size; write it as 10G, 512M or a number of bytes`);
  const unit = (m[2] ?? 'B')[0]!.toUpperCase();
  const mult = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit] ?? 1;
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new StorageError('InvalidSize', `'${text}' is not a usable size`);
  return bytes;
}

function checkName(name: string, what: string): void {
  if (!NAME.test(name)) {
    throw new StorageError('InvalidName', `'${name}' is not a valid ${what} name: use 1-128 letters, digits, '_', '.', '+' or '-', not starting with '.' or '-'`);
  }
}


function safeRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** qemu-img's refusals travel as QemuImgFailed, with qemu-img's own message. */
function asStorageError(err: unknown): unknown {
  return err instanceof QemuImgError ? new StorageError('QemuImgFailed', err.message) : err;
}

function rethrowStorage(err: unknown): never {
  throw asStorageError(err);
}
