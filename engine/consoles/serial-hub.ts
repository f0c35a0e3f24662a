// QEMU's serial chardev accepts one client at a time, so the engine holds that one connection and
// fans the guest's output out to every viewer (xm console, GUI tabs), merging their input. A viewer
// that cannot keep up is cut off rather than slowing the guest or the other viewers: the guest's
// output is in serial.log anyway, so nothing is lost for good.
//
// The hub also keeps serial.log bounded: on every attach and after every ROTATE_CHECK_BYTES of
// output it has relayed, the log is cut to its tail once it is too large (see rotate.ts).

import { open } from 'node:fs/promises';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { rotateSerialLog, SERIAL_LOG_ROTATION, type RotateOptions } from './rotate.js';

/** Bytes queued for one viewer beyond which it is disconnected as not reading. */
const MAX_VIEWER_BACKLOG = 4 * 1024 * 1024;
/** Output relayed between two checks of serial.log's size. */
const ROTATE_CHECK_BYTES = 64 * 1024;

export interface SerialHubOptions {
  rotation?: RotateOptions & { checkEveryBytes?: number };
  /** Where rotation failures go (default: console.warn). */
  onRotateError?: (error: Error) => void;
}

export interface SerialViewer {
  /** Guest output for this viewer (replay first, then live). */
  readable: PassThrough;
  /** Keyboard input from this viewer to the guest. */
  writable: Writable;
}

export class SerialHub {
  readonly #socketPath: string;
  readonly #logPath: string;
  #socket: net.Socket | undefined;
  #connecting: Promise<net.Socket> | undefined;
  readonly #viewers = new Set<PassThrough>();
  #closed = false;
  readonly #rotation: RotateOptions;
  readonly #checkEvery: number;
  readonly #onRotateError: (error: Error) => void;
  #sinceCheck = 0;
  #rotating: Promise<void> | undefined;

  constructor(paths: { socket: string; log: string }, opts: SerialHubOptions = {}) {
    this.#socketPath = paths.socket;
    this.#logPath = paths.log;
    this.#rotation = opts.rotation ?? SERIAL_LOG_ROTATION;
    this.#checkEvery = opts.rotation?.checkEveryBytes ?? ROTATE_CHECK_BYTES;
    this.#onRotateError = opts.onRotateError ?? ((e) => console.warn(`serial console: cannot rotate ${this.#logPath}: ${e.message}`));
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** A new viewer; `replayBytes` of serial.log are sent first so it sees the recent output. */
  async attach(replayBytes = 0): Promise<SerialViewer> {
    if (this.#closed) throw new Error('the serial console is closed (the domain has stopped)');
    const socket = await this.#connect();
    await this.rotateLog();
    const readable = new PassThrough();
    if (replayBytes > 0) readable.write(await this.#logTail(replayBytes));
    this.#viewers.add(readable);
    readable.on('close', () => this.#viewers.delete(readable));
    const writable = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (socket.destroyed) return callback();
        // Respect QEMU's backpressure: the viewer's input waits while the guest's UART is full.
        if (socket.write(chunk)) callback();
        else socket.once('drain', () => callback());
      },
    });
    return { readable, writable };
  }

  /** Cuts serial.log to its tail if it is over the limit; one rotation at a time. */
  rotateLog(): Promise<void> {
    this.#rotating ??= rotateSerialLog(this.#logPath, this.#rotation)
      .then(
        () => undefined,
        (err: unknown) => this.#onRotateError(err instanceof Error ? err : new Error(String(err))),
      )
      .finally(() => (this.#rotating = undefined));
    return this.#rotating;
  }

  /** The domain is gone: end every viewer. */
  close(): void {
    this.#closed = true;
    this.#socket?.destroy();
    for (const v of this.#viewers) v.end();
    this.#viewers.clear();
  }

  #connect(): Promise<net.Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    this.#connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const socket = net.createConnection({ path: this.#socketPath });
      socket.once('connect', () => {
        this.#socket = socket;
        this.#connecting = undefined;
        resolve(socket);
      });
      socket.once('error', (err) => {
        this.#connecting = undefined;
        reject(new Error(`cannot reach the serial console at ${this.#socketPath}: ${err.message}`));
      });
      socket.on('data', (chunk: Buffer) => this.#fanOut(chunk));
      socket.on('close', () => {
        for (const v of this.#viewers) v.end();
        this.#viewers.clear();
      });
    });
    return this.#connecting;
  }

  #fanOut(chunk: Buffer): void {
    this.#sinceCheck += chunk.length;
    if (this.#sinceCheck >= this.#checkEvery) {
      this.#sinceCheck = 0;
      void this.rotateLog();
    }
    for (const viewer of this.#viewers) {
      if (viewer.writableLength > MAX_VIEWER_BACKLOG) {
        viewer.destroy(new Error('console viewer is not reading; disconnected'));
        this.#viewers.delete(viewer);
        continue;
      }
      viewer.write(chunk);
    }
  }

  async #logTail(bytes: number): Promise<Buffer> {
    try {
      const handle = await open(this.#logPath, 'r');
      try {
        const { size } = await handle.stat();
        const length = Math.min(bytes, size);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, size - length);
        return buffer;
      } finally {
        await handle.close();
      }
    } catch {
      return Buffer.alloc(0);
    }
  }
}
