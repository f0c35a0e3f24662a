// A typed client of xenstored (what libxenstore is to Xen's tools): requests with client-assigned
// ids, watches with callbacks, and transactions that rerun their body on EAGAIN. Every pending
// request fails with XenstoreDisconnectedError when the connection ends.

import { Buffer } from 'node:buffer';
import net from 'node:net';
import { join } from 'node:path';
import { resolvePaths } from '../common/paths.js';
import { foreignSocketOwner } from '../common/private-dir.js';
import { XenstoreConnectError, XenstoreDisconnectedError, XenstoreError } from './errors.js';
import { formatPermission, parsePermissions } from './perms.js';
import type { Permission } from './perms.js';
import { LineSplitter, MAX_LINE_BYTES, replySchema } from './protocol.js';
import type { Op } from './protocol.js';
import { MAX_UNIX_PATH_BYTES } from '../common/unix-socket.js';

/** `<runtimeDir>/xenstored.sock` for this environment (DOM0_HOME honoured). */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(resolvePaths(env).runtimeDir, 'xenstored.sock');
}

/** The registry operations, the same with or without a transaction. */
export interface XenstoreOps {
  read(path: string): Promise<string>;
  /** read(), but undefined instead of ENOENT. */
  tryRead(path: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  write(path: string, value: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  directory(path: string): Promise<string[]>;
  getPerms(path: string): Promise<Permission[]>;
  /** Permissions as objects or Xen's strings (`n0`, `r5`); the first is the owner. */
  setPerms(path: string, perms: ReadonlyArray<Permission | string>): Promise<void>;
}

export interface WatchHandle {
  readonly path: string;
  readonly token: string;
  /** Unregisters the watch; no more callbacks after this is called. */
  dispose(): Promise<void>;
}

export type WatchCallback = (path: string, token: string) => void;

export interface ConnectOptions {
  /** Act as this domain instead of dom0 (the daemon allows it only to dom0 connections). */
  asDomid?: number;
  /** Bound on connect() (default 5000 ms). */
  timeoutMs?: number;
}

export interface TransactionOptions {
  /** Attempts before EAGAIN is given up and thrown (default 20). */
  maxAttempts?: number;
}

type Send = (op: Op, args: Record<string, unknown>) => Promise<unknown>;

function permText(p: Permission | string): string {
  return typeof p === 'string' ? p : formatPermission(p);
}

function expectString(v: unknown): string {
  if (typeof v !== 'string') throw new XenstoreDisconnectedError(`xenstored answered ${JSON.stringify(v)} where a string was expected`);
  return v;
}

function expectStrings(v: unknown): string[] {
  if (!Array.isArray(v)) throw new XenstoreDisconnectedError(`xenstored answered ${JSON.stringify(v)} where a list was expected`);
  return v as string[];
}

abstract class Ops implements XenstoreOps {
  protected abstract send(op: Op, args: Record<string, unknown>): Promise<unknown>;

  async read(path: string): Promise<string> {
    return expectString(await this.send('read', { path }));
  }

  async tryRead(path: string): Promise<string | undefined> {
    try {
      return await this.read(path);
    } catch (err) {
      if (err instanceof XenstoreError && err.errno === 'ENOENT') return undefined;
      throw err;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.tryRead(path)) !== undefined;
  }

  async write(path: string, value: string): Promise<void> {
    await this.send('write', { path, value });
  }

  async mkdir(path: string): Promise<void> {
    await this.send('mkdir', { path });
  }

  async rm(path: string): Promise<void> {
    await this.send('rm', { path });
  }

  async directory(path: string): Promise<string[]> {
    return expectStrings(await this.send('directory', { path }));
  }

  async getPerms(path: string): Promise<Permission[]> {
    return parsePermissions(expectStrings(await this.send('get_perms', { path })));
  }

  async setPerms(path: string, perms: ReadonlyArray<Permission | string>): Promise<void> {
    await this.send('set_perms', { path, perms: perms.map(permText) });
  }
}

/** The operations inside one transaction: they see their own writes; nothing is visible to
 * others (and no watch fires) until the transaction commits. */
export class XenstoreTransaction extends Ops {
  readonly #send: Send;

  /** @internal made by XenstoreClient.transaction() */
  constructor(send: Send, readonly id: number) {
    super();
    this.#send = send;
  }

  protected send(op: Op, args: Record<string, unknown>): Promise<unknown> {
    return this.#send(op, args);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class XenstoreClient extends Ops {
  readonly socketPath: string;
  #socket: net.Socket;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #watches = new Map<string, WatchCallback>();
  #closeListeners = new Set<(error?: Error) => void>();
  #closedWith: Error | undefined;
  #closedPromise: Promise<void>;

  private constructor(socketPath: string, socket: net.Socket) {
    super();
    this.socketPath = socketPath;
    this.#socket = socket;
    const splitter = new LineSplitter(
      MAX_LINE_BYTES,
      (line) => this.#onLine(line),
      () => this.#fail(new XenstoreDisconnectedError(`xenstored sent a line over ${MAX_LINE_BYTES} bytes`)),
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => {
      // 'close' follows and says the connection is gone
    });
    this.#closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.#fail(new XenstoreDisconnectedError('the connection to xenstored closed'));
        resolve();
      });
    });
  }

  static async connect(socketPath: string = defaultSocketPath(), opts: ConnectOptions = {}): Promise<XenstoreClient> {
    if (Buffer.byteLength(socketPath) > MAX_UNIX_PATH_BYTES) {
      throw new XenstoreConnectError(socketPath, 'path-too-long', `xenstored socket path ${socketPath} is too long for a unix socket`);
    }
    const foreign = foreignSocketOwner(socketPath);
    if (foreign) throw new XenstoreConnectError(socketPath, 'denied', foreign);
    const timeoutMs = opts.timeoutMs ?? 5000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ path: socketPath });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new XenstoreConnectError(socketPath, 'timeout', `connecting to xenstored at ${socketPath} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        s.destroy();
        reject(connectError(socketPath, err));
      });
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
    });
    const client = new XenstoreClient(socketPath, socket);
    if (opts.asDomid !== undefined && opts.asDomid !== 0) {
      try {
        await client.#request('set_target', { domid: opts.asDomid });
      } catch (err) {
        await client.close();
        throw err;
      }
    }
    return client;
  }

  protected send(op: Op, args: Record<string, unknown>): Promise<unknown> {
    return this.#request(op, args);
  }

  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  /** Registers a watch; `cb` runs once at once, then for every change at or below `path`. */
  async watch(path: string, token: string, cb: WatchCallback): Promise<WatchHandle> {
    const key = `${path}\0${token}`;
    if (this.#watches.has(key)) throw new XenstoreError('EEXIST', `already watching ${path} with token ${JSON.stringify(token)}`);
    // Registered first: the immediate event follows the reply and must find its callback.
    this.#watches.set(key, cb);
    try {
      await this.#request('watch', { path, token });
    } catch (err) {
      if (this.#watches.get(key) === cb) this.#watches.delete(key);
      throw err;
    }
    let disposed = false;
    return {
      path,
      token,
      dispose: async () => {
        if (disposed) return;
        disposed = true;
        if (this.#watches.get(key) === cb) this.#watches.delete(key);
        if (!this.closed) await this.#request('unwatch', { path, token });
      },
    };
  }

  /** Runs `body` in a transaction and commits it; on EAGAIN (a concurrent change to something
   * it used) runs the whole body again, up to `maxAttempts` times. If `body` throws, the
   * transaction is aborted and the error rethrown. */
  async transaction<T>(body: (tx: XenstoreTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const maxAttempts = opts.maxAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      const id = await this.#request('transaction_start', {});
      if (typeof id !== 'number') throw new XenstoreDisconnectedError(`xenstored answered ${JSON.stringify(id)} for a transaction id`);
      const tx = new XenstoreTransaction((op, args) => this.#request(op, args, id), id);
      let result: T;
      try {
        result = await body(tx);
      } catch (err) {
        await this.#request('transaction_end', { commit: false }, id).catch(() => {});
        throw err;
      }
      try {
        await this.#request('transaction_end', { commit: true }, id);
        return result;
      } catch (err) {
        if (!(err instanceof XenstoreError && err.errno === 'EAGAIN') || attempt >= maxAttempts) throw err;
      }
      // Random backoff so that writers who collided do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
    }
  }

  /** Fires `@introduceDomain` for watchers (xend, when a domain is created). */
  async introduceDomain(domid: number): Promise<void> {
    await this.#request('introduce_domain', { domid });
  }

  /** Fires `@releaseDomain` (xend, when a domain is gone; it removes the nodes itself). */
  async releaseDomain(domid: number): Promise<void> {
    await this.#request('release_domain', { domid });
  }

  /** Called once when the connection ends, with the reason unless close() ended it. */
  onClose(listener: (error?: Error) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (!this.#closedWith) this.#fail(undefined);
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
    await this.#closedPromise;
  }

  #request(op: Op, args: Record<string, unknown>, tx?: number): Promise<unknown> {
    if (this.#closedWith) return Promise.reject(new XenstoreDisconnectedError(`not connected to xenstored: ${this.#closedWith.message}`));
    const id = this.#nextId++;
    const message: Record<string, unknown> = { id, op, args };
    if (tx !== undefined) message.tx = tx;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  #onLine(line: string): void {
    let parsed;
    try {
      parsed = replySchema.safeParse(JSON.parse(line));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.#fail(new XenstoreDisconnectedError(`xenstored sent something that is not a reply: ${line.slice(0, 200)}`));
      this.#socket.destroy();
      return;
    }
    const msg = parsed.data;
    if ('event' in msg) {
      const cb = this.#watches.get(`${msg.watch}\0${msg.token}`);
      if (cb) {
        try {
          cb(msg.path, msg.token);
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
      return;
    }
    const pending = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
    if (!pending) {
      const text = 'error' in msg ? `${msg.error}: ${msg.message ?? ''}` : 'a reply';
      this.#fail(new XenstoreDisconnectedError(`xenstored sent ${text} for a request never made`));
      this.#socket.destroy();
      return;
    }
    this.#pending.delete(msg.id as number);
    if ('error' in msg) pending.reject(new XenstoreError(msg.error, msg.message));
    else pending.resolve(msg.ok);
  }

  /** Ends the client's life: every pending request fails, close listeners run once. */
  #fail(error: Error | undefined): void {
    if (this.#closedWith) return;
    this.#closedWith = error ?? new XenstoreDisconnectedError('the client closed the connection');
    const reason = this.#closedWith;
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
    this.#watches.clear();
    for (const l of this.#closeListeners) l(error);
    this.#closeListeners.clear();
  }
}

function connectError(socketPath: string, err: NodeJS.ErrnoException): XenstoreConnectError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new XenstoreConnectError(socketPath, 'not-running', `xenstored is not running: nothing listens on ${socketPath}`);
    case 'EACCES':
    case 'EPERM':
      return new XenstoreConnectError(socketPath, 'denied', `permission denied on ${socketPath}: xenstored runs as another user`);
    default:
      return new XenstoreConnectError(socketPath, 'other', `connecting to xenstored at ${socketPath}: ${err.message}`);
  }
}
