// The byte pipe under the QMP client: newline-delimited lines in and out, and one close signal.
// The client depends only on QmpTransport, so unit tests drive it with an object literal and the
// engine uses the unix-socket implementation below.

import { Buffer } from 'node:buffer';
import net from 'node:net';
import { ConnectError, ProtocolError } from './errors.js';
import type { ConnectFailure } from './errors.js';
import { MAX_LINE_BYTES } from './protocol.js';
import { MAX_UNIX_PATH_BYTES } from '../../common/unix-socket.js';

/**
 * Contract:
 * - `write(line)` sends one line; the transport adds the '\n'. Writes after the close are dropped.
 * - `onLine` receives each complete line, in order, without its newline.
 * - `onClose` fires exactly once, after the last line, whoever closed: also after `close()`.
 *   Its argument is the error that ended the connection, if one did (a socket error, or a
 *   ProtocolError for a line over the cap).
 * - Lines or a close that happen before a callback is set are held until it is set.
 */
export interface QmpTransport {
  write(line: string): void;
  onLine(cb: (line: string) => void): void;
  onClose(cb: (error?: Error) => void): void;
  close(): void;
}

export interface UnixSocketOptions {
  /** Bound on the connect() call itself (default 5000 ms). */
  timeoutMs?: number;
  /** Longest line accepted from QEMU, in bytes (default MAX_LINE_BYTES, 16 MiB). */
  maxLineBytes?: number;
}

/** Connects to a QMP unix socket. Rejects with ConnectError saying what is wrong with the path. */
export function connectUnixSocket(path: string, opts: UnixSocketOptions = {}): Promise<QmpTransport> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
    return Promise.reject(
      new ConnectError(
        path,
        'path-too-long',
        `QMP socket path ${path} is ${Buffer.byteLength(path)} bytes, over the ${MAX_UNIX_PATH_BYTES}-byte ` +
          `limit of unix sockets: use a shorter runtime directory`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const socket = new QmpSocket();
    socket.connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectError(path, 'timeout', `connecting to QMP socket ${path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectErrorFor(path, error));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(new UnixSocketTransport(socket, maxLineBytes));
    });
  });
}

function connectErrorFor(path: string, error: NodeJS.ErrnoException): ConnectError {
  const [kind, message]: [ConnectFailure, string] =
    error.code === 'ENOENT'
      ? ['missing', `QMP socket ${path} does not exist: is the domain's QEMU running? (it creates the socket as it starts)`]
      : error.code === 'ECONNREFUSED'
        ? [
            'refused',
            `nothing listens on QMP socket ${path}: the QEMU that created it has exited; ` +
              `start the domain again (the stale socket file may be deleted)`,
          ]
        : error.code === 'EACCES' || error.code === 'EPERM'
          ? ['denied', `no permission to open QMP socket ${path}: run Dom0 as the user that started QEMU`]
          : ['other', `cannot connect to QMP socket ${path}: ${error.message}`];
  return new ConnectError(path, kind, message, { cause: error });
}

class UnixSocketTransport implements QmpTransport {
  readonly #socket: QmpSocket;
  readonly #splitter: LineSplitter;
  #lineHandler: ((line: string) => void) | undefined;
  #closeHandler: ((error?: Error) => void) | undefined;
  readonly #heldLines: string[] = [];
  #closed: { error: Error | undefined } | undefined;
  #closeDelivered = false;
  /** The first error seen; the 'close' event that follows reports it. */
  #error: Error | undefined;

  constructor(socket: QmpSocket, maxLineBytes: number) {
    this.#socket = socket;
    this.#splitter = new LineSplitter(maxLineBytes);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#splitter.push(chunk, (line) => {
          // A handler may close the transport in the middle of a chunk: the rest is not delivered.
          if (this.#closed === undefined && !socket.destroyed) this.#deliver(line);
        });
      } catch (error) {
        this.#error ??= error as Error;
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => {
      this.#closed = { error: this.#error };
      this.#flushClose();
    });
  }

  write(line: string): void {
    if (this.#closed !== undefined || this.#socket.destroyed || this.#socket.writeFailed) return;
    // JSON.stringify output never contains a raw newline; anything else would split a command.
    if (line.includes('\n')) throw new TypeError('a QMP line must not contain a newline');
    this.#socket.write(`${line}\n`);
  }

  onLine(cb: (line: string) => void): void {
    this.#lineHandler = cb;
    for (const line of this.#heldLines.splice(0)) cb(line);
    this.#flushClose();
  }

  onClose(cb: (error?: Error) => void): void {
    this.#closeHandler = cb;
    this.#flushClose();
  }

  close(): void {
    this.#socket.destroy();
  }

  #deliver(line: string): void {
    if (this.#lineHandler === undefined) this.#heldLines.push(line);
    else this.#lineHandler(line);
  }

  #flushClose(): void {
    if (this.#closed === undefined || this.#closeDelivered || this.#closeHandler === undefined) return;
    // Held lines go first: the close must come after the last line.
    if (this.#heldLines.length > 0) return;
    this.#closeDelivered = true;
    this.#closeHandler(this.#closed.error);
  }
}

/** How long to keep reading after a write failed, waiting for QEMU's end of stream. */
const DRAIN_AFTER_WRITE_ERROR_MS = 1000;

/**
 * A socket that keeps reading after a write fails. A command written just as QEMU exits fails
 * with EPIPE, and plain net.Socket then marks its readable side errored and drops everything QEMU
 * sent before exiting that we had not read yet: the SHUTDOWN event (whose reason decides
 * on_poweroff vs on_crash) and the last replies. Seen here in ~2% of `quit`s followed at once by
 * another command. So write errors stop at _write (the subclass hook Writable defines): the
 * socket is marked, later writes are skipped, and the read side runs to QEMU's end of stream,
 * which ends the socket as usual. Should the peer keep its end open anyway, a bound destroys it.
 */
class QmpSocket extends net.Socket {
  #writeError: Error | undefined;

  get writeFailed(): boolean {
    return this.#writeError !== undefined;
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    super._write(chunk, encoding, (error) => this.#afterWrite(error, callback));
  }

  override _writev(
    chunks: { chunk: unknown; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    if (super._writev === undefined) throw new Error('net.Socket without _writev');
    super._writev(chunks, (error) => this.#afterWrite(error, callback));
  }

  #afterWrite(error: Error | null | undefined, callback: (error?: Error | null) => void): void {
    if (error != null && this.#writeError === undefined) {
      this.#writeError = error;
      setTimeout(() => this.destroy(error), DRAIN_AFTER_WRITE_ERROR_MS).unref();
    }
    callback();
  }
}

/**
 * Splits a byte stream into lines. Works on bytes, not strings, so a multi-byte UTF-8 character
 * split across chunks decodes whole and the cap counts real bytes. Lines go to `onLine` as they
 * complete; once an unterminated line passes the cap, push throws ProtocolError ('line-too-long')
 * before buffering any more of it (lines completed earlier in the chunk have been delivered).
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #partsBytes = 0;

  constructor(maxLineBytes: number = MAX_LINE_BYTES) {
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      this.#check(this.#partsBytes + piece.length);
      const whole = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#partsBytes = 0;
      start = nl + 1;
      // QEMU ends lines with "\r\n".
      const line = whole.toString('utf8').replace(/\r$/, '');
      if (line.trim() !== '') onLine(line);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#check(this.#partsBytes + rest.length);
      this.#parts.push(rest);
      this.#partsBytes += rest.length;
    }
  }

  #check(bytes: number): void {
    if (bytes > this.#maxLineBytes) {
      throw new ProtocolError(
        'line-too-long',
        `QEMU sent a line over ${this.#maxLineBytes} bytes without a newline; refusing to buffer more`,
      );
    }
  }
}
