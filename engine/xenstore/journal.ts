// Persistence of the registry: a snapshot file plus an append-only journal of what was committed
// since. The daemon acknowledges a change only once its record is on disk (written and
// fdatasync'd); concurrent changes share one fdatasync (group commit).
//
// Journal file: records of [u32 LE payload length][u32 LE CRC-32 of length bytes + payload]
// [payload: UTF-8 JSON]. The first record is a header naming the file's generation. A crash
// can leave a torn last record; replay stops at the first record whose length or CRC does not
// check out, and truncates the file there, so nothing acknowledged is lost (it was fdatasync'd
// whole) and nothing half-written is applied.
//
// Compaction writes the whole tree as snapshot generation G+1 (temp + fsync + rename), then
// replaces the journal by an empty one of generation G+1 the same way. Replay applies a journal
// only if its generation equals the snapshot's: a crash between the two renames leaves an old
// journal whose records the new snapshot already holds, and it is ignored.

import { Buffer } from 'node:buffer';
import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import zlib from 'node:zlib';
import { writeFileAtomic } from '../common/atomic-write.js';

const RECORD_HEADER_BYTES = 8;
/** A length field above this is corruption, not a record we could have written. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const JOURNAL_FORMAT = 'xenstore-journal';
const SNAPSHOT_FORMAT = 'xenstore-snapshot';
const FORMAT_VERSION = 1;

export interface JournalFiles {
  journal: string;
  snapshot: string;
}

export interface JournalOptions {
  /** Compact once the journal holds more bytes than this (default 4 MiB). */
  compactAfterBytes?: number;
  /** ... or more records than this (default 20000). */
  compactAfterRecords?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** A write or fdatasync failed. The journal refuses further work: whatever was not yet durable
   * was never acknowledged, and the caller should stop (restart replays what is on disk). */
  onError?: (error: Error) => void;
}

export interface OpenedJournal {
  journal: Journal;
  /** The snapshot's data, if there is a snapshot. */
  snapshot: unknown;
  /** Records after the snapshot, oldest first. */
  records: unknown[];
  /** Bytes of a torn or corrupt tail that replay dropped (0 normally). */
  droppedBytes: number;
}

export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}

// ---- CRC-32 (IEEE, as zlib) --------------------------------------------------------------------

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** zlib.crc32 arrived in Node 20.15; earlier 20.x gets the table version. */
export const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (data, value) => zlib.crc32(data, value) : tableCrc32;

// ---- records -----------------------------------------------------------------------------------

export function encodeRecord(value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  payload.copy(buf, RECORD_HEADER_BYTES);
  buf.writeUInt32LE(crc32(payload, crc32(buf.subarray(0, 4))), 4);
  return buf;
}

export interface DecodedRecords {
  records: unknown[];
  /** Length of the prefix made of whole, intact records. */
  validBytes: number;
  /** Why decoding stopped before the end, if it did. */
  problem?: string;
}

export function decodeRecords(buf: Buffer): DecodedRecords {
  const records: unknown[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const stop = (problem: string): DecodedRecords => ({ records, validBytes: offset, problem: `${problem} at byte ${offset}` });
    if (buf.length - offset < RECORD_HEADER_BYTES) return stop('torn record header');
    const length = buf.readUInt32LE(offset);
    if (length > MAX_RECORD_BYTES) return stop(`implausible record length ${length}`);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > buf.length) return stop('torn record');
    const payload = buf.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(payload, crc32(buf.subarray(offset, offset + 4))) !== buf.readUInt32LE(offset + 4)) return stop('CRC mismatch');
    try {
      records.push(JSON.parse(payload.toString('utf8')));
    } catch {
      return stop('record is not JSON');
    }
    offset = end;
  }
  return { records, validBytes: offset };
}

function journalHeader(generation: number): unknown {
  return { format: JOURNAL_FORMAT, version: FORMAT_VERSION, generation };
}

function headerGeneration(record: unknown): number | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const h = record as { format?: unknown; version?: unknown; generation?: unknown };
  if (h.format !== JOURNAL_FORMAT || h.version !== FORMAT_VERSION) return undefined;
  return typeof h.generation === 'number' && Number.isInteger(h.generation) && h.generation >= 0 ? h.generation : undefined;
}

async function readSnapshot(path: string): Promise<{ generation: number; data: unknown } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new JournalCorruptError(`snapshot ${path} is not valid JSON: move it aside to start from the journal alone`);
  }
  const s = parsed as { format?: unknown; version?: unknown; generation?: unknown; data?: unknown };
  if (s.format !== SNAPSHOT_FORMAT || s.version !== FORMAT_VERSION || typeof s.generation !== 'number' || !Number.isInteger(s.generation)) {
    throw new JournalCorruptError(`${path} is not a version ${FORMAT_VERSION} xenstore snapshot`);
  }
  return { generation: s.generation, data: s.data };
}

async function writeAll(handle: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await handle.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/** Temp files of writeFileAtomic left by a crash mid-write. */
async function removeStaleTemps(dir: string, names: readonly string[]): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (names.some((n) => entry.startsWith(`.${n}.`) && entry.endsWith('.tmp'))) await rm(join(dir, entry), { force: true });
  }
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Journal {
  readonly #files: JournalFiles;
  readonly #compactAfterBytes: number;
  readonly #compactAfterRecords: number;
  readonly #log: NonNullable<JournalOptions['log']>;
  readonly #onError: JournalOptions['onError'];
  #handle: FileHandle;
  #generation: number;
  #bytes: number;
  #records: number;
  #syncs = 0;
  #pending: Buffer[] = [];
  #appended = 0;
  #durable = 0;
  #running: Promise<void> | undefined;
  #snapshotSource: (() => unknown) | undefined;
  #compactRequested = false;
  #compactWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  #waiters: Waiter[] = [];
  #listeners = new Set<(seq: number) => void>();
  #failed: Error | undefined;
  #closed = false;

  private constructor(files: JournalFiles, opts: JournalOptions, handle: FileHandle, generation: number, bytes: number, records: number) {
    this.#files = files;
    this.#compactAfterBytes = opts.compactAfterBytes ?? 4 * 1024 * 1024;
    this.#compactAfterRecords = opts.compactAfterRecords ?? 20_000;
    this.#log = opts.log ?? (() => {});
    this.#onError = opts.onError;
    this.#handle = handle;
    this.#generation = generation;
    this.#bytes = bytes;
    this.#records = records;
  }

  /** Reads snapshot and journal (dropping a torn tail) and opens the journal for appending. */
  static async open(files: JournalFiles, opts: JournalOptions = {}): Promise<OpenedJournal> {
    const log = opts.log ?? (() => {});
    const dir = dirname(files.journal);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await removeStaleTemps(dir, [basename(files.journal), basename(files.snapshot)]);
    const snapshot = await readSnapshot(files.snapshot);
    const snapGen = snapshot?.generation ?? 0;
    let buf: Buffer | undefined;
    try {
      buf = await readFile(files.journal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let records: unknown[] = [];
    let droppedBytes = 0;
    let bytes = 0;
    let fresh = true;
    if (buf && buf.length > 0) {
      const decoded = decodeRecords(buf);
      const gen = headerGeneration(decoded.records[0]);
      if (gen === undefined) {
        throw new JournalCorruptError(`${files.journal} does not start with a xenstore journal header: move it aside to start from the snapshot alone`);
      }
      if (gen > snapGen) {
        throw new JournalCorruptError(
          `${files.journal} is generation ${gen} but snapshot ${files.snapshot} is ${snapshot ? `generation ${snapGen}` : 'missing'}: restore the snapshot file`,
        );
      }
      if (gen < snapGen) {
        log('info', `journal generation ${gen} predates snapshot generation ${snapGen} (compaction was interrupted): the snapshot holds its records`);
      } else {
        fresh = false;
        records = decoded.records.slice(1);
        bytes = decoded.validBytes;
        if (decoded.validBytes < buf.length) {
          droppedBytes = buf.length - decoded.validBytes;
          log('warn', `journal ${files.journal}: ${decoded.problem ?? 'bad tail'}; dropped ${droppedBytes} bytes of an unacknowledged last write`);
          const h = await open(files.journal, 'r+');
          try {
            await h.truncate(decoded.validBytes);
            await h.datasync();
          } finally {
            await h.close();
          }
        }
      }
    }
    if (fresh) {
      const header = encodeRecord(journalHeader(snapGen));
      await writeFileAtomic(files.journal, header, 0o600);
      bytes = header.length;
    }
    const handle = await open(files.journal, 'a', 0o600);
    const journal = new Journal(files, opts, handle, snapGen, bytes, records.length);
    return { journal, snapshot: snapshot?.data, records, droppedBytes };
  }

  get generation(): number {
    return this.#generation;
  }

  /** Sequence number of the last appended record (process-local, starts at 0). */
  get appendedSeq(): number {
    return this.#appended;
  }

  /** Every record up to this sequence number is on disk. */
  get durableSeq(): number {
    return this.#durable;
  }

  /** fdatasync calls made so far: fewer than records when commits were grouped. */
  get syncCount(): number {
    return this.#syncs;
  }

  get sizeBytes(): number {
    return this.#bytes;
  }

  get recordCount(): number {
    return this.#records;
  }

  /** What compaction writes as the snapshot. Called synchronously, so it must return the state
   * that includes exactly the records appended so far. Compaction is off until this is set. */
  setSnapshotSource(source: () => unknown): void {
    this.#snapshotSource = source;
  }

  /** Queues a record for the next write; returns its sequence number. */
  append(record: unknown): number {
    if (this.#failed) throw this.#failed;
    if (this.#closed) throw new Error('xenstore journal is closed');
    this.#pending.push(encodeRecord(record));
    this.#appended++;
    this.#kick();
    return this.#appended;
  }

  /** Resolves once record `seq` (default: the last appended) is on disk. */
  whenDurable(seq = this.#appended): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (seq <= this.#durable) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
  }

  /** Called with the new durable sequence number after each write (or compaction). */
  onDurable(listener: (seq: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Snapshot now and start a new journal. */
  compact(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!this.#snapshotSource) return Promise.reject(new Error('xenstore journal: no snapshot source set'));
    return new Promise((resolve, reject) => {
      this.#compactWaiters.push({ resolve, reject });
      this.#compactRequested = true;
      this.#kick();
    });
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.whenDurable();
    } finally {
      await this.#running?.catch(() => {});
      await this.#handle.close();
    }
  }

  #kick(): void {
    if (this.#running || this.#failed) return;
    this.#running = this.#loop()
      .catch((err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.#running = undefined;
        if (!this.#failed && (this.#pending.length > 0 || this.#compactRequested)) this.#kick();
      });
  }

  async #loop(): Promise<void> {
    for (;;) {
      if (this.#compactRequested && this.#snapshotSource) {
        await this.#compactNow(this.#snapshotSource);
        continue;
      }
      if (this.#pending.length === 0) return;
      const count = this.#pending.length;
      const batch = Buffer.concat(this.#pending);
      this.#pending = [];
      const upto = this.#appended;
      await writeAll(this.#handle, batch);
      await this.#handle.datasync();
      this.#syncs++;
      this.#bytes += batch.length;
      this.#records += count;
      this.#setDurable(upto);
      if (this.#bytes > this.#compactAfterBytes || this.#records > this.#compactAfterRecords) this.#compactRequested = true;
    }
  }

  async #compactNow(source: () => unknown): Promise<void> {
    // Taken in the same tick as dropping the queue: the snapshot holds exactly the records
    // appended so far, queued ones included, so they need not reach the old journal.
    const data = source();
    const upto = this.#appended;
    this.#pending = [];
    this.#compactRequested = false;
    const waiters = this.#compactWaiters;
    this.#compactWaiters = [];
    const generation = this.#generation + 1;
    const started = Date.now();
    await writeFileAtomic(this.#files.snapshot, JSON.stringify({ format: SNAPSHOT_FORMAT, version: FORMAT_VERSION, generation, data }), 0o600);
    const header = encodeRecord(journalHeader(generation));
    await writeFileAtomic(this.#files.journal, header, 0o600);
    const old = this.#handle;
    this.#handle = await open(this.#files.journal, 'a', 0o600);
    await old.close();
    this.#log('info', `compacted ${this.#records} journal records (${this.#bytes} bytes) into snapshot generation ${generation} in ${Date.now() - started} ms`);
    this.#generation = generation;
    this.#bytes = header.length;
    this.#records = 0;
    this.#setDurable(upto);
    for (const w of waiters) w.resolve();
  }

  #setDurable(seq: number): void {
    this.#durable = Math.max(this.#durable, seq);
    const ready = this.#waiters.filter((w) => w.seq <= this.#durable);
    this.#waiters = this.#waiters.filter((w) => w.seq > this.#durable);
    for (const w of ready) w.resolve();
    for (const l of this.#listeners) l(this.#durable);
  }

  #fail(error: Error): void {
    this.#failed = error;
    this.#log('error', `xenstore journal ${this.#files.journal}: ${error.message}`);
    for (const w of this.#waiters) w.reject(error);
    for (const w of this.#compactWaiters) w.reject(error);
    this.#waiters = [];
    this.#compactWaiters = [];
    this.#onError?.(error);
  }
}
