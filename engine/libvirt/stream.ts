// A libvirt stream (a console, a volume upload) as a Node Duplex. Data goes out as STREAM packets
// with status CONTINUE in chunks libvirt accepts; ending sends status OK; destroying an unfinished
// stream aborts it (status ERROR), as virStreamAbort does.

import { Duplex } from 'node:stream';
import { MessageStatus, STREAM_CHUNK_MAX } from './packet.js';

type Send = (status: number, data: Buffer) => void;

export class LibvirtStream extends Duplex {
  private ended = false;

  constructor(
    private readonly sendPacket: Send,
    private readonly forget: () => void,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Data from the daemon. */
  receive(data: Buffer): void {
    this.push(data);
  }

  /** The daemon finished the stream. */
  receiveEnd(): void {
    this.ended = true;
    this.push(null);
  }

  override _read(): void {
    // Data is pushed as it arrives; libvirt streams have no client-side credit to grant.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += STREAM_CHUNK_MAX) this.sendPacket(MessageStatus.CONTINUE, chunk.subarray(off, off + STREAM_CHUNK_MAX));
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.sendPacket(MessageStatus.OK, Buffer.alloc(0));
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.ended) {
      this.ended = true;
      this.sendPacket(MessageStatus.ERROR, Buffer.alloc(0));
    }
    this.forget();
    done(err);
  }
}
