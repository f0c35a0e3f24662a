// QEMU's serial chardev accepts one client at a time, so the engine holds that one connection and
// fans the guest's output out to every viewer (xm console, GUI tabs), merging their input. A viewer
// that cannot keep up is cut off rather than slowing the guest or the other viewers: the guest's
// output is in serial.log anyway, so nothing is lost for good.

import { open } from 'node:fs/promises';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';

/** Bytes queued for one viewer beyond which it is disconnected as not reading. */
const MAX_VIEWER_BACKLOG = 4 * 1024 * 1024;

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

  constructor(paths: { socket: string; log: string }) {
    this.#socketPath = paths.socket;
    this.#logPath = paths.log;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** A new viewer; `replayBytes` of serial.log are sent first so it sees the recent output. */
  async attach(replayBytes = 0): Promise<SerialViewer> {
    if (this.#closed) throw new Error('the serial console is closed (the domain has stopped)');
    const socket = await this.#connect();
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
