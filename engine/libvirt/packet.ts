// libvirt's RPC packet: a 4-byte big-endian length (counting itself), a 24-byte header (program,
// version, procedure, type, serial, status) and an XDR body. See libvirt's "RPC infrastructure"
// docs and virnetprotocol.x.

import { LibvirtProtocolError } from './errors.js';

export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;

export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

export interface Header {
  program: number;
  version: number;
  procedure: number;
  type: number;
  serial: number;
  status: number;
}

export interface Packet {
  header: Header;
  body: Buffer;
}

const LEN = 4;
const HEADER = 24;
/** VIR_NET_MESSAGE_MAX: the daemon refuses bigger packets, so do we. */
export const MESSAGE_MAX = 16 * 1024 * 1024;
/** VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX: stream data is sent in chunks no bigger than this. */
export const STREAM_CHUNK_MAX = 262120;

export function encodePacket(header: Header, body: Buffer): Buffer {
  const total = LEN + HEADER + body.length;
  if (total > MESSAGE_MAX) throw new LibvirtProtocolError(`a ${total}-byte message exceeds libvirt's ${MESSAGE_MAX}-byte limit`);
  const out = Buffer.alloc(LEN + HEADER);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(header.program >>> 0, 4);
  out.writeUInt32BE(header.version >>> 0, 8);
  out.writeInt32BE(header.procedure, 12);
  out.writeInt32BE(header.type, 16);
  out.writeUInt32BE(header.serial >>> 0, 20);
  out.writeInt32BE(header.status, 24);
  return body.length ? Buffer.concat([out, body]) : out;
}

/** Splits a byte stream into packets; feed it chunks as they arrive. */
export class PacketReader {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Packet[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Packet[] = [];
    for (;;) {
      if (this.size < LEN) break;
      const head = this.peek(LEN);
      const total = head.readUInt32BE(0);
      if (total < LEN + HEADER || total > MESSAGE_MAX) throw new LibvirtProtocolError(`bad packet length ${total}: the peer does not speak libvirt's RPC protocol`);
      if (this.size < total) break;
      const buf = this.take(total);
      out.push({
        header: {
          program: buf.readUInt32BE(4),
          version: buf.readUInt32BE(8),
          procedure: buf.readInt32BE(12),
          type: buf.readInt32BE(16),
          serial: buf.readUInt32BE(20),
          status: buf.readInt32BE(24),
        },
        body: buf.subarray(LEN + HEADER),
      });
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.size -= n;
    return out;
  }
}
