// The engine protocol on a unix socket: what the CLIs and local engines use. Newline-delimited
// JSON; the peer is authenticated by the socket's permissions (0600: only the engine's user can
// connect), so there is no token.
//
// The socket never exists with looser permissions, not even for a moment: it is bound inside a
// fresh 0700 directory, chmod'ed to 0600, then hard-linked to its final path and the directory
// removed. link(2) fails if the path exists, so two engines starting at once cannot both win (a
// rename would silently replace the other's socket).

import { Buffer } from 'node:buffer';
import { chmod, link, lstat, mkdtemp, rm, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { ListenError } from './errors.js';
import { LineReader } from './framing.js';
import { joinStream } from './server.js';
import type { CloseWhy, ConnectionAcceptor, ServerConnection, ServerTransport, StreamPipe } from './server.js';
import { MAX_UNIX_PATH_BYTES } from '../../common/unix-socket.js';

export { MAX_UNIX_PATH_BYTES };

export interface UnixListener {
  readonly path: string;
  /** Open connections on this listener. */
  readonly connectionCount: number;
  /** Stops accepting, drops this listener's connections and removes the socket file (if it is
   * still ours). */
  close(): Promise<void>;
}

/**
 * Serves `server` on a unix socket at `path`, mode 0600 (or 0660 for a system-wide xend whose
 * group is the users allowed in). A stale socket left by a dead engine is replaced; a live one
 * makes this reject with ListenError 'in-use' ("another server is listening on <path>").
 */
export async function listenUnix(path: string, server: ConnectionAcceptor, opts: { mode?: 0o600 | 0o660 } = {}): Promise<UnixListener> {
  checkPathLength(path, path);
  await removeStaleSocket(path);
  const privateDir = await mkdtemp(join(dirname(path), '.'));
  const tempPath = join(privateDir, 's');
  const sockets = new Set<net.Socket>();
  let nextClient = 1;
  const netServer = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new UnixServerTransport(socket, server, nextClient++);
  });
  let ino: number;
  try {
    checkPathLength(tempPath, path);
    await new Promise<void>((resolve, reject) => {
      netServer.once('error', reject);
      netServer.listen(tempPath, () => {
        netServer.off('error', reject);
        resolve();
      });
    });
    await chmod(tempPath, opts.mode ?? 0o600);
    await linkInPlace(tempPath, path);
    ino = (await stat(path)).ino;
  } catch (error) {
    netServer.close();
    throw error instanceof ListenError ? error : listenErrorFor(path, error);
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
  netServer.on('error', (error) => server.log.error(`unix socket ${path} failed`, error));
  return {
    path,
    get connectionCount() {
      return sockets.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      // Only our own socket: a newer engine may have replaced a path we were slow to give up.
      const current = await stat(path).catch(() => undefined);
      if (current?.ino === ino) await unlink(path).catch(() => undefined);
    },
  };
}

function checkPathLength(path: string, finalPath: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new ListenError(
      finalPath,
      'path-too-long',
      `the socket path ${finalPath} is too long for a unix socket (${bytes} bytes with the temporary name used ` +
        `while binding, over ${MAX_UNIX_PATH_BYTES}): use a shorter runtime directory`,
    );
  }
}

async function linkInPlace(tempPath: string, path: string): Promise<void> {
  try {
    await link(tempPath, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone created the path since we looked: another engine starting, or a stale file.
    await removeStaleSocket(path);
    await link(tempPath, path);
  }
}

/** Removes `path` if it is a socket nobody listens on; refuses if it is live or not a socket. */
async function removeStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw listenErrorFor(path, error);
  }
  if (!info.isSocket()) {
    throw new ListenError(path, 'not-a-socket', `${path} exists and is not a socket: move it away, Dom0 will not delete it`);
  }
  const probe = await probeSocket(path);
  if (probe === 'live') {
    throw new ListenError(path, 'in-use', `another server is listening on ${path}`);
  }
  if (probe === 'denied') {
    throw new ListenError(path, 'denied', `${path} belongs to another user: Dom0 cannot tell whether it is in use`);
  }
  if (probe === 'stale') await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw listenErrorFor(path, error);
  });
}

function probeSocket(path: string): Promise<'live' | 'stale' | 'gone' | 'denied'> {
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    // A server too busy to accept within a second is still a server.
    const timer = setTimeout(() => {
      probe.destroy();
      resolve('live');
    }, 1000);
    probe.once('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      resolve('live');
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      probe.destroy();
      resolve(error.code === 'ECONNREFUSED' ? 'stale' : error.code === 'ENOENT' ? 'gone' : error.code === 'EACCES' ? 'denied' : 'live');
    });
  });
}

function listenErrorFor(path: string, error: unknown): ListenError {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message;
  if (code === 'EACCES' || code === 'EPERM') {
    return new ListenError(path, 'denied', `no permission to create the socket ${path}: ${message}`, { cause: error });
  }
  if (code === 'EEXIST') return new ListenError(path, 'in-use', `another server is listening on ${path}`, { cause: error });
  return new ListenError(path, 'other', `cannot listen on ${path}: ${message}`, { cause: error });
}

/** How long an ending connection may take to flush before it is cut. */
const END_GRACE_MS = 2000;

class UnixServerTransport implements ServerTransport {
  readonly kind = 'unix';
  readonly remote: string;
  readonly #socket: net.Socket;
  readonly #connection: ServerConnection;
  readonly #reader: LineReader;
  #streaming = false;
  #ending = false;
  readonly #onData = (chunk: Buffer) => this.#reader.push(chunk);

  constructor(socket: net.Socket, server: ConnectionAcceptor, n: number) {
    this.#socket = socket;
    this.remote = `client ${n}`;
    this.#connection = server.accept(this);
    this.#reader = new LineReader(
      server.limits.maxMessageBytes,
      (line) => {
        const next = this.#connection.receive(line);
        // The rest is stream bytes (or nothing wanted): stop reading until the pipe takes over.
        if (next === 'stop') this.pauseInput();
        return next;
      },
      (bytes) => this.#connection.tooLarge(bytes),
    );
    socket.on('data', this.#onData);
    socket.on('end', () => {
      if (!this.#streaming) this.#connection.inputEnded();
    });
    // 'close' follows every error; the error itself is the peer's business.
    socket.on('error', () => undefined);
    socket.once('close', () => this.#connection.closed());
  }

  send(text: string): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(`${text}\n`);
  }

  bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  end(_why: CloseWhy): void {
    this.#ending = true;
    this.#socket.off('data', this.#onData);
    // Keep reading (into nothing) so the peer's FIN is seen and the socket closes.
    this.#socket.resume();
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(_why: CloseWhy): void {
    this.#ending = true;
    this.#socket.destroy();
  }

  pauseInput(): void {
    // An ending connection keeps reading, or the peer's FIN would go unseen.
    if (!this.#ending) this.#socket.pause();
  }

  resumeInput(): void {
    if (!this.#streaming && !this.#ending) this.#socket.resume();
  }

  becomeStream(ack: string, pipe: StreamPipe, done: (error?: Error) => void): void {
    this.#streaming = true;
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.write(`${ack}\n`);
    const rest = this.#reader.takeRest();
    if (rest.length > 0) socket.unshift(rest);
    joinStream(socket, pipe, done);
  }
}
