// Live migration between engines: xend's relocation service (Xen's names: xend-relocation-server,
// -port, -address, -hosts-allow), with what Xen's lacked: authentication. Both engines share a
// token (xend-relocation-token); the target sends a random nonce, the source answers with
// HMAC-SHA256(token, nonce), so the token never crosses the wire and a replay is useless.
//
//   target → "DOM0-RELOCATE 1 <nonce>\n"      source → "AUTH <hmac hex>\n"
//   target → "OK\n" | "ERR <why>\n"           source → "MIGRATE <json options>\n" + save stream
//   (header.ts + QEMU's migration stream, then half-close)
//   target → "DONE <json>\n" once the domain runs there | "ERR <why>\n"
//
// The source domain is destroyed only after DONE. Any failure before that (auth refused, target
// killed, network cut, load failed) leaves it running on the source: QEMU resumes a guest whose
// migration failed, and the engine resumes one that completed but was not confirmed.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { loadDomainConfigText, serializeDomainConfig } from '../config/index.js';
import type { DomainInfo, DomainManager } from '../domains/index.js';
import { MigrationError } from './errors.js';
import { decodeHeader, encodeHeader, FIXED_HEADER_BYTES, headerLength } from './header.js';
import { migrateIn, migrateOut, type MigrationProgress } from './qemu-stream.js';
import { headerFor, qmpVersion } from './save-restore.js';
import { copiedDisks, createTargetDisks, diskSizes, exportDisks, mirrorDisks, stopExport, type DiskSize, type Mirrors } from './storage-copy.js';
import { rm } from 'node:fs/promises';

export const RELOCATION_PROTOCOL = 'DOM0-RELOCATE 1';
export const DEFAULT_RELOCATION_PORT = 8002;
const MAX_LINE = 64 * 1024;
/** Bytes read ahead of what the protocol consumed; past this the socket is paused (TCP pushes back). */
const READ_AHEAD = 256 * 1024;
/** A peer that does not authenticate within this long is dropped. */
const AUTH_TIMEOUT_MS = 10_000;

export interface RelocationServerOptions {
  manager: DomainManager;
  /** Address to listen on; '' is every address (Xen's default). */
  address: string;
  port: number;
  /** Xen's xend-relocation-hosts-allow: a peer's whole address must match one (none: everyone may try). */
  hostsAllow: RegExp[];
  token: string;
  /** Where copy-storage migrations put the disks they receive (<data>/images). */
  imagesDir?: string;
  log: (level: 'info' | 'warn', message: string) => void;
}

export interface RelocationServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startRelocationServer(o: RelocationServerOptions): Promise<RelocationServer> {
  if (o.token.length < 16) throw new MigrationError('RelocationRefused', 'xend-relocation-token must be at least 16 characters: relocation is never open without authentication');
  const sockets = new Set<net.Socket>();
  const exports = new Map<string, string>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    void serve(o, socket, exports).catch((err: unknown) => {
      o.log('warn', `relocation from ${socket.remoteAddress ?? '?'} failed: ${(err as Error).message}`);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address || undefined, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  o.log('info', `relocation server listening on ${o.address || '*'}:${port}`);
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serve(o: RelocationServerOptions, socket: net.Socket, exports: Map<string, string>): Promise<void> {
  const peer = socket.remoteAddress ?? '';
  // Checked before a byte is read: a refused peer costs nothing but this line.
  if (!hostAllowed(o.hostsAllow, peer)) {
    o.log('warn', `relocation from ${peer} refused: not in xend-relocation-hosts-allow`);
    refuse(socket, `ERR ${peer} is not allowed to relocate domains here (xend-relocation-hosts-allow)\n`);
    return;
  }
  const reader = new LineReader(socket);
  const nonce = randomBytes(32).toString('hex');
  socket.write(`${RELOCATION_PROTOCOL} ${nonce}\n`);
  const auth = await withDeadline(reader.line(), AUTH_TIMEOUT_MS, 'no authentication');
  const answer = /^AUTH ([0-9a-f]{64})$/.exec(auth)?.[1];
  const expected = createHmac('sha256', o.token).update(nonce).digest();
  if (!answer || !timingSafeEqual(Buffer.from(answer, 'hex'), expected)) {
    o.log('warn', `relocation from ${peer} refused: authentication failed`);
    reader.stop();
    refuse(socket, 'ERR authentication failed: the engines must share xend-relocation-token\n');
    return;
  }
  socket.write('OK\n');
  const migrate = await reader.line();
  if (migrate.startsWith('NBD ')) {
    // A tunnel for the source QEMU's NBD connection into this engine's incoming QEMU.
    const path = exports.get(migrate.slice(4));
    if (!path) throw new Error('NBD tunnel for an unknown migration');
    const nbd = net.createConnection({ path });
    const remote = reader.rest();
    remote.pipe(nbd);
    nbd.pipe(remote);
    const close = () => {
      nbd.destroy();
      remote.destroy();
    };
    nbd.on('error', close);
    remote.on('error', close);
    nbd.once('close', close);
    remote.once('close', close);
    remote.resume();
    return;
  }
  if (!migrate.startsWith('MIGRATE ')) throw new Error(`expected MIGRATE, got '${migrate.slice(0, 40)}'`);
  const request = JSON.parse(migrate.slice(8)) as { live?: boolean; copyStorage?: DiskSize[] };
  const fixed = await reader.bytes(FIXED_HEADER_BYTES);
  const header = decodeHeader(await reader.bytes(headerLength(fixed, 'the relocation stream')), 'the relocation stream');
  // From here the socket is QEMU's stream: paused, so TCP holds the source back while QEMU starts.
  const stream = reader.rest();
  let info: DomainInfo;
  let created: string[] = [];
  try {
    let { config } = loadDomainConfigText(header.config, `${header.name} (relocated config)`);
    o.log('info', `incoming relocation of domain ${header.name} from ${peer}${request.copyStorage ? ' (copying its disks)' : ''}`);
    const sizes = request.copyStorage;
    if (sizes) {
      if (!o.imagesDir) throw new MigrationError('MigrationFailed', 'this engine takes no copy-storage migrations (no images dir)');
      ({ config, created } = await createTargetDisks(config, sizes, o.imagesDir));
    }
    const vdevs = sizes?.map((s) => s.vdev) ?? [];
    info = await o.manager.create(config, {
      uuid: header.uuid,
      macs: header.macs,
      incoming: async (qmp, runtimeDir) => {
        if (!sizes) return migrateIn(qmp, runtimeDir, stream);
        const session = randomBytes(16).toString('hex');
        exports.set(session, await exportDisks(qmp, runtimeDir, vdevs));
        try {
          socket.write(`NBD-READY ${session}\n`);
          // Returns only after the source half-closed, which it does once its mirrors drained.
          await migrateIn(qmp, runtimeDir, stream);
        } finally {
          exports.delete(session);
          await stopExport(qmp, vdevs);
        }
      },
    });
  } catch (err) {
    for (const path of created) await rm(path, { force: true });
    socket.end(`ERR ${oneLine((err as Error).message)}\n`);
    // The source may still be sending: a reset stops it (its guest then runs on there).
    setTimeout(() => socket.destroy(), 2000).unref();
    throw err;
  }
  socket.end(`DONE ${JSON.stringify({ domid: info.domid, name: info.name })}\n`);
  o.log('info', `domain ${info.name} relocated here from ${peer} (id=${info.domid})`);
}

/**
 * Xen's hosts-allow test: a pattern admits a peer only if it matches the whole address (as Xen's
 * documented '^...$' examples intend; '127.0.0.1' must not admit 127.0.0.10). IPv4 peers on a
 * dual-stack listener arrive as ::ffff:a.b.c.d and are matched in both spellings. No patterns:
 * every address may try to authenticate.
 */
export function hostAllowed(patterns: readonly RegExp[], peer: string): boolean {
  if (patterns.length === 0) return true;
  const spellings = [peer, peer.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')];
  return patterns.some((re) => {
    const whole = new RegExp(`^(?:${re.source})$`, re.flags.replace(/[gy]/g, ''));
    return spellings.some((a) => whole.test(a));
  });
}

/** Says why, then closes for good: nothing more is read from a refused peer. */
function refuse(socket: net.Socket, message: string): void {
  socket.pause();
  socket.end(message);
  socket.destroySoon();
  // A peer that never reads its refusal must not hold the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export interface MigrateOptions {
  host: string;
  port?: number;
  token: string;
  /** Pre-copy while the guest runs (xm migrate --live); otherwise it is paused for the copy. */
  live?: boolean;
  /** Bytes per second; default unlimited. */
  maxBandwidth?: number;
  /** ms; QEMU's default 300. */
  downtimeLimitMs?: number;
  /** No shared storage: copy the writable disks to the target while the guest runs (NBD + mirror). */
  copyStorage?: boolean;
  onProgress?: (p: MigrationProgress) => void;
  signal?: AbortSignal;
}

export interface MigrateResult {
  domid: number;
  downtimeMs: number;
  totalMs: number;
  bytes: number;
}

/** `xm migrate`: move a running domain to another engine; it is removed here only once it runs there. */
export async function migrateDomain(manager: DomainManager, ref: string | number, o: MigrateOptions): Promise<MigrateResult> {
  const qmp = manager.qmpOf(ref, 'migrate');
  const info = manager.info(ref);
  const port = o.port ?? DEFAULT_RELOCATION_PORT;
  const socket = net.createConnection({ host: o.host, port, allowHalfOpen: true });
  const reader = new LineReader(socket);
  const fail = (why: string) => new MigrationError('MigrationFailed', `migration of '${info.name}' to ${o.host}:${port} failed: ${why}; the domain is still running here`);
  let paused = false;
  let mirrors: Mirrors | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const greeting = await withDeadline(reader.line(), AUTH_TIMEOUT_MS, 'the target did not greet');
    if (greeting.startsWith('ERR ')) throw new MigrationError('RelocationRefused', greeting.slice(4));
    const nonce = greeting.startsWith(`${RELOCATION_PROTOCOL} `) ? greeting.slice(RELOCATION_PROTOCOL.length + 1) : '';
    if (!/^[0-9a-f]{64}$/.test(nonce)) throw new Error(`${o.host}:${port} is not a Dom0 relocation server`);
    socket.write(`AUTH ${createHmac('sha256', o.token).update(nonce).digest('hex')}\n`);
    const auth = await reader.line();
    if (auth !== 'OK') throw new MigrationError('RelocationRefused', `the target refused: ${auth.replace(/^ERR /, '')}`);
    const config = manager.configOf(info.domid);
    const sizes = o.copyStorage ? await diskSizes(qmp, config) : undefined;
    socket.write(`MIGRATE ${JSON.stringify({ live: o.live === true, copyStorage: sizes })}\n`);
    socket.write(encodeHeader(headerFor(info, serializeDomainConfig(config), qmpVersion(qmp.version))));
    if (sizes) {
      const ready = await reader.line();
      if (!ready.startsWith('NBD-READY ')) throw new Error(ready.replace(/^ERR /, 'the target said: '));
      const session = ready.slice(10);
      mirrors = await mirrorDisks(qmp, info.runtimeDir, copiedDisks(config).map((d) => d.vdev), () => openTunnel(o, port, session));
    }
    if (!o.live && info.status === 'running') {
      await manager.pause(info.domid);
      paused = true;
    }
    socket.on('error', () => undefined);
    const out = await migrateOut(qmp, info.runtimeDir, socket, {
      maxBandwidth: o.maxBandwidth,
      downtimeLimitMs: o.downtimeLimitMs,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    // The target resumes the guest only after this half-close: the disk copies must be complete first.
    if (mirrors) {
      await mirrors.finish();
      mirrors = undefined;
    }
    socket.end();
    let reply: string;
    try {
      reply = await reader.line();
    } catch (err) {
      await qmp.execute('cont').catch(() => undefined);
      throw err;
    }
    if (!reply.startsWith('DONE ')) {
      // QEMU finished sending, so it stopped the guest: the target did not take it, so it runs on here.
      if (out.wasRunning || paused) await qmp.execute('cont').catch(() => undefined);
      throw new Error(reply.replace(/^ERR /, 'the target said: '));
    }
    const done = JSON.parse(reply.slice(5)) as { domid: number };
    await manager.destroy(info.domid);
    return { domid: done.domid, downtimeMs: out.downtimeMs, totalMs: out.totalMs, bytes: out.bytes };
  } catch (err) {
    socket.destroy();
    await mirrors?.abort();
    if (paused && manager.lookup(info.domid)?.status === 'paused') await manager.unpause(info.domid).catch(() => undefined);
    if (err instanceof MigrationError && err.code === 'RelocationRefused') throw err;
    throw fail((err as Error).message);
  }
}

/** A second authenticated connection to the target, carrying one NBD connection of a migration. */
async function openTunnel(o: MigrateOptions, port: number, session: string): Promise<net.Socket> {
  const socket = net.createConnection({ host: o.host, port });
  const reader = new LineReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const greeting = await withDeadline(reader.line(), AUTH_TIMEOUT_MS, 'the target did not greet');
  const nonce = greeting.slice(RELOCATION_PROTOCOL.length + 1);
  socket.write(`AUTH ${createHmac('sha256', o.token).update(nonce).digest('hex')}\n`);
  if ((await reader.line()) !== 'OK') throw new Error('the target refused the NBD tunnel');
  socket.write(`NBD ${session}\n`);
  return reader.rest();
}

/**
 * Lines and exact byte counts from a socket, then the rest of it as a stream. Received chunks are
 * kept as a list (joined once per line or byte count, never re-copied per chunk), at most
 * READ_AHEAD bytes ahead of the reader before the socket is paused, and a line longer than
 * MAX_LINE fails as soon as it arrives: what a peer can make this side hold is bounded.
 */
class LineReader {
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes of #chunks already searched for a newline. */
  #scanned = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #socket: net.Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (this.#length >= READ_AHEAD) this.#socket.pause();
    this.#wake?.();
  };

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.once('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.once('close', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.once('error', (err) => {
      this.#error = err;
      this.#wake?.();
    });
  }

  async line(): Promise<string> {
    for (;;) {
      const nl = this.#newline();
      if (nl >= 0) {
        const line = this.#take(nl + 1).subarray(0, nl).toString('utf8');
        return line;
      }
      if (this.#length > MAX_LINE) {
        this.stop();
        throw new Error('protocol line too long');
      }
      await this.#more();
    }
  }

  async bytes(n: number): Promise<Buffer> {
    while (this.#length < n) await this.#more();
    return this.#take(n);
  }

  /** Stops reading and drops what was received (a refused peer). */
  stop(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.pause();
    this.#chunks = [];
    this.#length = 0;
    this.#scanned = 0;
  }

  /** Everything after what was read, as a stream (the socket itself, with the buffered bytes put back). */
  rest(): net.Socket {
    this.#socket.off('data', this.#onData);
    this.#socket.pause();
    if (this.#length > 0) this.#socket.unshift(this.#take(this.#length));
    return this.#socket;
  }

  /** Offset of the first newline in what was received, or -1; each byte is searched once. */
  #newline(): number {
    let offset = 0;
    for (const chunk of this.#chunks) {
      if (offset + chunk.length > this.#scanned) {
        const from = Math.max(0, this.#scanned - offset);
        const at = chunk.indexOf(0x0a, from);
        if (at >= 0) return offset + at;
      }
      offset += chunk.length;
    }
    this.#scanned = offset;
    return -1;
  }

  /** The first n received bytes, removed. */
  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    const out = all.subarray(0, n);
    const left = all.subarray(n);
    this.#chunks = left.length > 0 ? [left] : [];
    this.#length = left.length;
    this.#scanned = 0;
    return out;
  }

  async #more(): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#ended) throw new Error('the connection closed');
    const waiting = new Promise<void>((resolve) => (this.#wake = resolve));
    this.#socket.resume();
    await waiting;
    this.#wake = undefined;
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
    }),
  ]);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
