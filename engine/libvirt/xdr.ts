// XDR (RFC 4506) encoding driven by the descriptors that scripts/gen-libvirt-protocol.mjs writes
// from remote_protocol.x: one interpreter for every libvirt type, no hand-written XDR per call.
// rpcgen encodes char/short as 4-byte ints, and so do we (libvirt's wire format follows rpcgen).

import { types as remoteTypes } from './generated/remote-protocol.js';
import { LibvirtProtocolError } from './errors.js';

export type XdrType =
  | { k: 'int' | 'uint' | 'hyper' | 'uhyper' | 'double' | 'float' | 'bool' | 'void' }
  | { k: 'string'; max?: number }
  | { k: 'opaque'; fixed?: number; max?: number }
  | { k: 'ref'; name: string }
  | { k: 'optional'; of: XdrType }
  | { k: 'array'; of: XdrType; fixed?: number; max?: number }
  | { k: 'struct'; fields: [string | null, XdrType][] }
  | { k: 'union'; disc: string; arms: Record<string, [string | null, XdrType]>; dflt?: [string | null, XdrType] };

const pad = (n: number): number => (4 - (n % 4)) % 4;

export class XdrWriter {
  private buf = Buffer.alloc(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  int(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.len);
    this.len += 4;
  }
  uint(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }
  hyper(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.len);
    this.len += 8;
  }
  uhyper(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.len);
    this.len += 8;
  }
  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
  }
  float(v: number): void {
    this.ensure(4);
    this.buf.writeFloatBE(v, this.len);
    this.len += 4;
  }
  bytes(b: Buffer, withLength: boolean): void {
    if (withLength) this.uint(b.length);
    const p = pad(b.length);
    this.ensure(b.length + p);
    b.copy(this.buf, this.len);
    this.buf.fill(0, this.len + b.length, this.len + b.length + p);
    this.len += b.length + p;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class XdrReader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new LibvirtProtocolError(`XDR body ends early (needs ${n} bytes at ${this.off} of ${this.buf.length})`);
  }
  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }
  uint(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  hyper(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }
  uhyper(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }
  double(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.off);
    this.off += 8;
    return v;
  }
  float(): number {
    this.need(4);
    const v = this.buf.readFloatBE(this.off);
    this.off += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n + pad(n));
    const b = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n + pad(n);
    return b;
  }
  get remaining(): number {
    return this.buf.length - this.off;
  }
}

function resolve(t: XdrType, table: Record<string, XdrType>): XdrType {
  let d = t;
  while (d.k === 'ref') {
    const next = table[d.name];
    if (!next) throw new LibvirtProtocolError(`XDR type ${d.name} is not in the generated protocol`);
    d = next;
  }
  return d;
}

function checkMax(what: string, n: number, max: number | undefined): void {
  if (max !== undefined && n > max) throw new LibvirtProtocolError(`${what} of ${n} exceeds the protocol's limit of ${max}`);
}

export function encode(w: XdrWriter, type: XdrType, value: unknown, table: Record<string, XdrType> = remoteTypes): void {
  const t = resolve(type, table);
  switch (t.k) {
    case 'void':
      return;
    case 'int':
      return w.int(Number(value ?? 0));
    case 'uint':
      return w.uint(Number(value ?? 0));
    case 'hyper':
      return w.hyper(BigInt((value as bigint | number | undefined) ?? 0));
    case 'uhyper':
      return w.uhyper(BigInt((value as bigint | number | undefined) ?? 0));
    case 'double':
      return w.double(Number(value ?? 0));
    case 'float':
      return w.float(Number(value ?? 0));
    case 'bool':
      return w.int(value ? 1 : 0);
    case 'string': {
      const b = Buffer.from(String(value ?? ''), 'utf8');
      checkMax('string', b.length, t.max);
      return w.bytes(b, true);
    }
    case 'opaque': {
      const b = Buffer.isBuffer(value) ? value : Buffer.alloc(0);
      if (t.fixed !== undefined) {
        if (b.length !== t.fixed) throw new LibvirtProtocolError(`fixed opaque needs ${t.fixed} bytes, got ${b.length}`);
        return w.bytes(b, false);
      }
      checkMax('opaque', b.length, t.max);
      return w.bytes(b, true);
    }
    case 'optional':
      if (value === null || value === undefined) return w.uint(0);
      w.uint(1);
      return encode(w, t.of, value, table);
    case 'array': {
      const items = (value as unknown[] | undefined) ?? [];
      if (t.fixed !== undefined) {
        if (items.length !== t.fixed) throw new LibvirtProtocolError(`fixed array needs ${t.fixed} items, got ${items.length}`);
      } else {
        checkMax('array', items.length, t.max);
        w.uint(items.length);
      }
      for (const item of items) encode(w, t.of, item, table);
      return;
    }
    case 'struct': {
      const obj = (value ?? {}) as Record<string, unknown>;
      for (const [name, ft] of t.fields) if (name) encode(w, ft, obj[name], table);
      return;
    }
    case 'union': {
      const obj = value as Record<string, unknown>;
      const disc = Number(obj[t.disc]);
      w.int(disc);
      const arm = t.arms[String(disc)] ?? t.dflt;
      if (!arm) throw new LibvirtProtocolError(`union arm ${disc} is not defined`);
      if (arm[0]) encode(w, arm[1], obj[arm[0]], table);
      return;
    }
  }
}

export function decode(r: XdrReader, type: XdrType, table: Record<string, XdrType> = remoteTypes): unknown {
  const t = resolve(type, table);
  switch (t.k) {
    case 'void':
      return undefined;
    case 'int':
      return r.int();
    case 'uint':
      return r.uint();
    case 'hyper':
      return r.hyper();
    case 'uhyper':
      return r.uhyper();
    case 'double':
      return r.double();
    case 'float':
      return r.float();
    case 'bool':
      return r.int() !== 0;
    case 'string': {
      const n = r.uint();
      checkMax('string', n, t.max);
      return r.bytes(n).toString('utf8');
    }
    case 'opaque': {
      if (t.fixed !== undefined) return r.bytes(t.fixed);
      const n = r.uint();
      checkMax('opaque', n, t.max);
      return r.bytes(n);
    }
    case 'optional':
      return r.uint() === 0 ? null : decode(r, t.of, table);
    case 'array': {
      const n = t.fixed ?? r.uint();
      checkMax('array', n, t.max);
      if (n * 4 > r.remaining) throw new LibvirtProtocolError(`array of ${n} items cannot fit in the ${r.remaining} bytes left`);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(decode(r, t.of, table));
      return out;
    }
    case 'struct': {
      const obj: Record<string, unknown> = {};
      for (const [name, ft] of t.fields) if (name) obj[name] = decode(r, ft, table);
      return obj;
    }
    case 'union': {
      const disc = r.int();
      const arm = t.arms[String(disc)] ?? t.dflt;
      if (!arm) throw new LibvirtProtocolError(`union arm ${disc} is not defined`);
      const obj: Record<string, unknown> = { [t.disc]: disc };
      if (arm[0]) obj[arm[0]] = decode(r, arm[1], table);
      return obj;
    }
  }
}

/** Encodes a value of a named .x type (e.g. `remote_domain_lookup_by_name_args`). */
export function encodeNamed(name: string | undefined, value: unknown): Buffer {
  const w = new XdrWriter();
  if (name) encode(w, { k: 'ref', name }, value);
  return w.result();
}

/** Decodes a body of a named .x type; undefined for a void body. */
export function decodeNamed(name: string | undefined, body: Buffer): unknown {
  if (!name) return undefined;
  return decode(new XdrReader(body), { k: 'ref', name });
}
