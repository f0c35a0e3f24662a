// xenstored: one process owns the registry for a state dir and serves it on a unix socket.
//
// Durability: a request's changes reach the journal queue synchronously (XenstoreTree.onCommit),
// and every reply or watch event is held until the journal is durable up to the record that was
// last appended when it was produced. So nobody, the writer or a reader of the new value, hears
// of a change that a crash could still lose; and concurrent writers share one fdatasync.
//
// One instance per state dir: `<dataDir>/xenstored.lock` holds the owner's pid (and its start
// time, so a recycled pid does not look alive); a lock or socket left by a dead daemon is
// removed at start.

import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { Dom0Paths } from '../common/paths.js';
import { ensurePrivateDir } from '../common/private-dir.js';
import { XenstoreError, XenstoredRunningError } from './errors.js';
import type { Errno } from './errors.js';
import type { Journal, JournalOptions } from './journal.js';
import { openPersistentTree } from './persist.js';
import { formatPermissions, parsePermissions } from './perms.js';
import { LineSplitter, MAX_LINE_BYTES, requestSchema } from './protocol.js';
import type { Request, RequestId } from './protocol.js';
import type { Quota, WatchEvent, XenstoreConnection, XenstoreTree } from './tree.js';
import { MAX_UNIX_PATH_BYTES } from '../common/unix-socket.js';

export interface XenstoreLocations {
  journal: string;
  snapshot: string;
  lock: string;
  socket: string;
}

/** Where xenstored keeps its files for a state dir (see engine/common/paths.ts). */
export function xenstoreLocations(paths: Pick<Dom0Paths, 'dataDir' | 'runtimeDir'>): XenstoreLocations {
  return {
    journal: join(paths.dataDir, 'xenstore.journal'),
    snapshot: join(paths.dataDir, 'xenstore.snapshot'),
    lock: join(paths.dataDir, 'xenstored.lock'),
    socket: join(paths.runtimeDir, 'xenstored.sock'),
  };
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface XenstoredOptions {
  dataDir: string;
  runtimeDir: string;
  /** Default `<runtimeDir>/xenstored.sock`. */
  socketPath?: string;
  quota?: Partial<Quota>;
  journal?: Pick<JournalOptions, 'compactAfterBytes' | 'compactAfterRecords'>;
  /** Longest request line (default 64 KiB); a longer one closes the connection. */
  maxLineBytes?: number;
  /** Replies and events a client may leave unread before it is disconnected (default 4 MiB). */
  maxOutboundBytes?: number;
  log?: (level: LogLevel, message: string) => void;
  /** The daemon stopped serving after a journal write failed. Restarting replays what is on disk. */
  onFatal?: (error: Error) => void;
}

export interface Xenstored {
  readonly socketPath: string;
  readonly tree: XenstoreTree;
  readonly journal: Journal;
  readonly connectionCount: number;
  /** Stops accepting, sends what is durable, flushes the journal, removes socket and lock. */
  close(): Promise<void>;
}


export async function startXenstored(opts: XenstoredOptions): Promise<Xenstored> {
  const log = opts.log ?? (() => {});
  const loc = xenstoreLocations(opts);
  const socketPath = opts.socketPath ?? loc.socket;
  if (Buffer.byteLength(socketPath) > MAX_UNIX_PATH_BYTES) {
    throw new Error(`socket path ${socketPath} is over the ${MAX_UNIX_PATH_BYTES}-byte limit of unix sockets: use a shorter DOM0_HOME`);
  }
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  ensurePrivateDir(opts.runtimeDir);
  const releaseLock = await acquireLock(loc.lock, opts.dataDir, log);
  try {
    if (await socketAnswers(socketPath)) {
      throw new Error(`${socketPath} is served by a process that does not hold ${loc.lock}: stop it, or use another DOM0_HOME`);
    }
    await rm(socketPath, { force: true });
    const daemon = await Daemon.start(opts, loc, socketPath, log, releaseLock);
    return daemon;
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

class Daemon implements Xenstored {
  readonly #sessions = new Set<Session>();
  readonly #server: net.Server;
  readonly #log: (level: LogLevel, message: string) => void;
  readonly #releaseLock: () => Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(
    readonly socketPath: string,
    readonly tree: XenstoreTree,
    readonly journal: Journal,
    readonly limits: { maxLineBytes: number; maxOutboundBytes: number },
    log: (level: LogLevel, message: string) => void,
    releaseLock: () => Promise<void>,
  ) {
    this.#log = log;
    this.#releaseLock = releaseLock;
    this.#server = net.createServer((socket) => this.#accept(socket));
    journal.onDurable((seq) => {
      for (const s of this.#sessions) s.pump(seq);
    });
  }

  static async start(
    opts: XenstoredOptions,
    loc: XenstoreLocations,
    socketPath: string,
    log: (level: LogLevel, message: string) => void,
    releaseLock: () => Promise<void>,
  ): Promise<Daemon> {
    // The journal reports failures through a callback set before the daemon exists.
    const ref: { daemon?: Daemon } = {};
    const opened = await openPersistentTree(
      { journal: loc.journal, snapshot: loc.snapshot },
      {
        quota: opts.quota,
        journal: {
          ...opts.journal,
          log,
          onError: (error) => {
            if (ref.daemon) void ref.daemon.#fatal(error, opts.onFatal);
            else opts.onFatal?.(error);
          },
        },
      },
    );
    const daemon = new Daemon(
      socketPath,
      opened.tree,
      opened.journal,
      { maxLineBytes: opts.maxLineBytes ?? MAX_LINE_BYTES, maxOutboundBytes: opts.maxOutboundBytes ?? 4 * 1024 * 1024 },
      log,
      releaseLock,
    );
    ref.daemon = daemon;
    try {
      await daemon.#listen();
    } catch (err) {
      await opened.journal.close();
      throw err;
    }
    log(
      'info',
      `pid ${process.pid} serving ${socketPath}: ${opened.tree.nodeCount} nodes, ${opened.replayedRecords} journal records replayed` +
        (opened.droppedBytes > 0 ? `, torn tail of ${opened.droppedBytes} bytes dropped` : ''),
    );
    return daemon;
  }

  get connectionCount(): number {
    return this.#sessions.size;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  log(level: LogLevel, message: string): void {
    this.#log(level, message);
  }

  forget(session: Session): void {
    this.#sessions.delete(session);
  }

  async #listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.socketPath, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    // The runtime dir is 0700 already; the socket mode guards a runtime dir someone loosened.
    await chmod(this.socketPath, 0o600);
    this.#server.on('error', (err) => this.#log('error', `listening on ${this.socketPath}: ${err.message}`));
  }

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#sessions.add(new Session(this, socket));
  }

  async #shutdown(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sessions) s.stopReading();
    try {
      await this.journal.whenDurable();
    } catch {
      // a failed journal was reported through onFatal; nothing more can be made durable
    }
    const ended = [...this.#sessions].map((s) => s.end());
    await Promise.all(ended);
    await this.journal.close().catch((err: Error) => this.#log('error', `closing the journal: ${err.message}`));
    await serverClosed;
    await rm(this.socketPath, { force: true });
    await this.#releaseLock();
    this.#log('info', 'stopped');
  }

  async #fatal(error: Error, onFatal: XenstoredOptions['onFatal']): Promise<void> {
    this.#log('error', `cannot persist changes, stopping: ${error.message}`);
    // Drop everyone without the replies still waiting for the disk: those changes were never
    // acknowledged, and a restart replays exactly what is durable.
    for (const s of this.#sessions) s.destroy();
    await this.close();
    onFatal?.(error);
  }
}

type Outbound = { line: string; seq: number };

class Session {
  readonly #daemon: Daemon;
  readonly #socket: net.Socket;
  readonly #conn: XenstoreConnection;
  readonly #splitter: LineSplitter;
  #queue: Outbound[] = [];
  #queuedBytes = 0;
  #reading = true;
  #endWhenDrained = false;
  /** Events raised while a watch request runs go after its reply, as in Xen. */
  #heldEvents: WatchEvent[] | undefined;
  #gone = false;
  /** Destroyed by us; 'close' (and #gone) follow. */
  #dead = false;

  constructor(daemon: Daemon, socket: net.Socket) {
    this.#daemon = daemon;
    this.#socket = socket;
    this.#conn = daemon.tree.connect({ onWatch: (e) => this.#onWatch(e) });
    this.#splitter = new LineSplitter(
      daemon.limits.maxLineBytes,
      (line) => this.#handleLine(line),
      () => {
        this.#send({ id: null, error: 'E2BIG', message: `request line over ${daemon.limits.maxLineBytes} bytes: closing the connection` });
        this.#closeAfterReplies();
      },
    );
    socket.on('data', (chunk: Buffer) => {
      if (this.#reading) this.#splitter.push(chunk);
    });
    socket.on('error', () => {
      // 'close' follows; a peer that vanished is not the daemon's problem
    });
    socket.on('close', () => this.#cleanup());
  }

  /** Sends queued lines that are durable now. */
  pump(durable: number): void {
    while (this.#queue.length > 0 && (this.#queue[0] as Outbound).seq <= durable) {
      const item = this.#queue.shift() as Outbound;
      this.#queuedBytes -= item.line.length;
      this.#write(item.line);
    }
    if (this.#queue.length === 0 && this.#endWhenDrained) this.#finish();
  }

  stopReading(): void {
    this.#reading = false;
  }

  /** Sends what can be sent, then closes; resolves once the socket is gone. */
  end(): Promise<void> {
    if (this.#gone) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#closeAfterReplies();
      this.pump(this.#daemon.journal.durableSeq);
      // A client that never reads would keep the socket open forever.
      setTimeout(() => this.#socket.destroy(), 2000).unref();
    });
  }

  destroy(): void {
    this.#dead = true;
    this.#reading = false;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#socket.destroy();
  }

  #handleLine(line: string): void {
    if (!this.#reading || line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      this.#send({ id: null, error: 'EINVAL', message: 'request is not JSON: closing the connection' });
      this.#closeAfterReplies();
      return;
    }
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
      this.#send({ id: idOf(json), error: 'EINVAL', message: `malformed request: ${issues}` });
      return;
    }
    const req = parsed.data;
    let reply: object;
    this.#heldEvents = req.op === 'watch' ? [] : undefined;
    try {
      reply = { id: req.id, ok: this.#execute(req) };
    } catch (err) {
      if (err instanceof XenstoreError) {
        reply = { id: req.id, error: err.errno, message: err.message };
      } else {
        this.#daemon.log('error', `${req.op} failed: ${(err as Error).stack ?? String(err)}`);
        reply = { id: req.id, error: 'EIO' satisfies Errno, message: `internal error: ${(err as Error).message}` };
      }
    }
    const held = this.#heldEvents;
    this.#heldEvents = undefined;
    this.#send(reply);
    for (const e of held ?? []) this.#sendEvent(e);
  }

  #execute(req: Request): string | boolean | number | string[] {
    const conn = this.#conn;
    switch (req.op) {
      case 'read':
        return conn.read(req.args.path, req.tx ?? 0);
      case 'write':
        conn.write(req.args.path, req.args.value, req.tx ?? 0);
        return true;
      case 'mkdir':
        conn.mkdir(req.args.path, req.tx ?? 0);
        return true;
      case 'rm':
        conn.rm(req.args.path, req.tx ?? 0);
        return true;
      case 'directory':
        return conn.directory(req.args.path, req.tx ?? 0);
      case 'get_perms':
        return formatPermissions(conn.getPerms(req.args.path, req.tx ?? 0));
      case 'set_perms':
        conn.setPerms(req.args.path, parsePermissions(req.args.perms), req.tx ?? 0);
        return true;
      case 'watch':
        conn.watch(req.args.path, req.args.token);
        return true;
      case 'unwatch':
        conn.unwatch(req.args.path, req.args.token);
        return true;
      case 'transaction_start':
        return conn.transactionStart();
      case 'transaction_end':
        conn.transactionEnd(req.tx, req.args.commit);
        return true;
      case 'introduce_domain':
        conn.introduceDomain(req.args.domid);
        return true;
      case 'release_domain':
        conn.releaseDomain(req.args.domid);
        return true;
      case 'set_target':
        conn.actAs(req.args.domid);
        return true;
    }
  }

  #onWatch(e: WatchEvent): void {
    if (this.#heldEvents) this.#heldEvents.push(e);
    else this.#sendEvent(e);
  }

  #sendEvent(e: WatchEvent): void {
    this.#send({ event: 'watch', path: e.path, token: e.token, watch: e.watch });
  }

  #send(message: object): void {
    if (this.#gone || this.#dead) return;
    const line = `${JSON.stringify(message)}\n`;
    const journal = this.#daemon.journal;
    const seq = journal.appendedSeq;
    if (this.#queue.length === 0 && seq <= journal.durableSeq) {
      this.#write(line);
      return;
    }
    this.#queue.push({ line, seq });
    this.#queuedBytes += line.length;
    this.#checkBacklog();
  }

  #write(line: string): void {
    if (this.#gone || this.#dead) return;
    this.#socket.write(line);
    this.#checkBacklog();
  }

  #checkBacklog(): void {
    const backlog = this.#queuedBytes + this.#socket.writableLength;
    if (backlog > this.#daemon.limits.maxOutboundBytes) {
      this.#daemon.log('warn', `dropping a client that left ${backlog} bytes of replies and events unread`);
      this.destroy();
    }
  }

  #closeAfterReplies(): void {
    this.#reading = false;
    this.#endWhenDrained = true;
    if (this.#queue.length === 0) this.#finish();
  }

  #finish(): void {
    if (this.#gone) return;
    this.#socket.end();
  }

  #cleanup(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#queue = [];
    this.#conn.close();
    this.#daemon.forget(this);
  }
}

function idOf(json: unknown): RequestId | null {
  if (typeof json !== 'object' || json === null || !('id' in json)) return null;
  const id = (json as { id: unknown }).id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'string' && id.length <= 128) return id;
  return null;
}

// ---- the lock ----------------------------------------------------------------------------------

interface LockHolder {
  pid: number;
  /** /proc/<pid>/stat start time, when known. */
  start?: string;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (holder.start !== undefined) {
    const now = processStartTime(holder.pid);
    if (now !== undefined && now !== holder.start) return false;
  }
  return true;
}

async function readLock(path: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^(\d+)(?: (\d+))?\n?$/.exec(text);
  const pid = m ? Number(m[1]) : 0;
  if (!m || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return m[2] === undefined ? { pid } : { pid, start: m[2] };
}

/** Takes `<dataDir>/xenstored.lock` or throws XenstoredRunningError naming the live owner. */
async function acquireLock(lockPath: string, dataDir: string, log: (level: LogLevel, message: string) => void): Promise<() => Promise<void>> {
  const start = processStartTime(process.pid);
  const content = `${process.pid}${start === undefined ? '' : ` ${start}`}\n`;
  const tmp = `${lockPath}.${process.pid}.tmp`;
  const release = async (): Promise<void> => {
    const holder = await readLock(lockPath);
    if (holder?.pid === process.pid) await rm(lockPath, { force: true });
  };
  // link() publishes the lock with its content in one step: nobody can read a half-written pid.
  await writeFile(tmp, content, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        try {
          await link(tmp, lockPath);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
          await writeFile(lockPath, content, { flag: 'wx', mode: 0o600 });
        }
        return release;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readLock(lockPath);
      if (holder && isAlive(holder)) {
        throw new XenstoredRunningError(holder.pid, `xenstored is already running for ${dataDir} (pid ${holder.pid}; lock ${lockPath})`);
      }
      log('warn', `removing stale lock ${lockPath} left by ${holder ? `pid ${holder.pid}, which is gone` : 'an unknown process'}`);
      await rm(lockPath, { force: true });
    }
    throw new Error(`could not take ${lockPath}: other processes keep taking it`);
  } finally {
    await rm(tmp, { force: true });
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ path });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
