// xm save / xm restore: a domain's whole state in one self-describing file (header.ts), written
// through a temp file renamed on success. QEMU streams the guest live (pre-copy) and stops it only
// for the last pages, so a save that fails (disk full, xend killed, cancelled) leaves the guest
// running, and the final name only ever holds a complete, fsync'd file.

import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadDomainConfigText, serializeDomainConfig } from '../config/index.js';
import type { DomainInfo, DomainManager } from '../domains/index.js';
import { MigrationError } from './errors.js';
import { decodeHeader, encodeHeader, FIXED_HEADER_BYTES, headerLength, type SaveHeader } from './header.js';
import { migrateIn, migrateOut, type MigrationProgress } from './qemu-stream.js';

export interface SaveOptions {
  /** `xm save -c`: keep the domain running after the save (else it is destroyed). */
  keepRunning?: boolean;
  onProgress?: (p: MigrationProgress) => void;
  signal?: AbortSignal;
}

export interface SaveResult {
  path: string;
  bytes: number;
  /** ms the guest was stopped for the final copy. */
  downtimeMs: number;
  totalMs: number;
}

export async function saveDomain(manager: DomainManager, ref: string | number, path: string, opts: SaveOptions = {}): Promise<SaveResult> {
  const qmp = manager.qmpOf(ref, 'save');
  const info = manager.info(ref);
  const header = headerFor(info, serializeDomainConfig(manager.configOf(info.domid)), qmpVersion(qmp.version));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const file = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
  const closed = new Promise<void>((resolve) => file.once('close', () => resolve()));
  let result;
  try {
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', reject);
    });
    const head = encodeHeader(header);
    file.write(head);
    const out = await migrateOut(qmp, info.runtimeDir, file, { onProgress: opts.onProgress, signal: opts.signal });
    try {
      file.end();
      await closed;
      // fsync is per file, not per descriptor: a fresh one flushes what the stream wrote.
      await syncPath(tmp, 'r+');
      await rename(tmp, path);
      await syncPath(dirname(path), 'r');
    } catch (err) {
      // The stream is complete but the file is not safely down: the guest must not be lost.
      if (out.wasRunning) await qmp.execute('cont').catch(() => undefined);
      throw err;
    }
    result = { path, bytes: head.length + out.bytes, downtimeMs: out.downtimeMs, totalMs: out.totalMs, wasRunning: out.wasRunning };
  } catch (err) {
    file.destroy();
    await closed;
    await rm(tmp, { force: true });
    throw new MigrationError('SaveFailed', `could not save domain '${info.name}' to ${path}: ${(err as Error).message}; the domain is still running`);
  }
  if (opts.keepRunning) {
    if (result.wasRunning) await qmp.execute('cont');
  } else {
    await manager.destroy(info.domid);
  }
  return { path: result.path, bytes: result.bytes, downtimeMs: result.downtimeMs, totalMs: result.totalMs };
}

export function headerFor(info: DomainInfo, configText: string, qemuVersion: string): SaveHeader {
  return { name: info.name, uuid: info.uuid, macs: info.macs, config: configText, savedAt: Date.now(), qemuVersion };
}

export function qmpVersion(v: { major: number; minor: number; micro: number }): string {
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** Read a save file's header: what `xm restore` would recreate, without touching QEMU. */
export async function readSaveHeader(path: string): Promise<{ header: SaveHeader; streamOffset: number }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new MigrationError('BadSaveFile', `cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
    const { bytesRead } = await handle.read(fixed, 0, FIXED_HEADER_BYTES, 0);
    const length = headerLength(fixed.subarray(0, bytesRead), path);
    const json = Buffer.alloc(length);
    const got = await handle.read(json, 0, length, FIXED_HEADER_BYTES);
    if (got.bytesRead !== length) throw new MigrationError('BadSaveFile', `${path} is truncated (header cut short)`);
    return { header: decodeHeader(json, path), streamOffset: FIXED_HEADER_BYTES + length };
  } finally {
    await handle.close();
  }
}

export interface RestoreOptions {
  /** `xm restore -p`: leave the domain paused. */
  paused?: boolean;
}

/** Recreate a saved domain with its name, uuid and MACs; refused if that name or uuid runs. */
export async function restoreDomain(manager: DomainManager, path: string, opts: RestoreOptions = {}): Promise<DomainInfo> {
  const { header, streamOffset } = await readSaveHeader(path);
  const { config } = loadDomainConfigText(header.config, `${path} (saved config)`);
  return manager.create(config, {
    uuid: header.uuid,
    macs: header.macs,
    paused: opts.paused,
    incoming: (qmp, runtimeDir) => migrateIn(qmp, runtimeDir, createReadStream(path, { start: streamOffset })),
  });
}

/**
 * Managed save (libvirt's managedsave): a defined domain saved to `<data>/save/<name>.save`, where
 * `domain.list` sees it as saved and `domain.start` restores it instead of booting.
 */
export function managedSavePath(dataDir: string, name: string): string {
  return join(dataDir, 'save', `${name}.save`);
}

export function hasManagedSave(dataDir: string, name: string): boolean {
  return existsSync(managedSavePath(dataDir, name));
}

export async function managedSave(manager: DomainManager, dataDir: string, name: string, opts: SaveOptions = {}): Promise<SaveResult> {
  await mkdir(join(dataDir, 'save'), { recursive: true, mode: 0o700 });
  return saveDomain(manager, name, managedSavePath(dataDir, name), opts);
}

/** Restores the domain's managed save, if any, and deletes the file once the domain runs. */
export async function restoreManagedSave(manager: DomainManager, dataDir: string, name: string, opts: RestoreOptions = {}): Promise<DomainInfo | undefined> {
  const path = managedSavePath(dataDir, name);
  if (!existsSync(path)) return undefined;
  let info;
  try {
    info = await restoreDomain(manager, path, opts);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = `could not restore domain '${name}' from its saved state ${path}: ${(err as Error).message}; the file is kept (delete it to boot the domain afresh)`;
    throw code === 'DomainExists' ? err : new MigrationError('RestoreFailed', message);
  }
  // Restored: the state now lives in the domain; an old file would bring it back twice.
  await rm(path, { force: true });
  return info;
}

async function syncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
