// xenstored's wire protocol: newline-delimited JSON over a unix socket.
//
//   client → daemon   {id, op, args?, tx?}                       one request per line
//   daemon → client   {id, ok: result} | {id, error: ERRNO, message?}
//                     {event: 'watch', path, token, watch}        a watch fired
//
// `id` is the client's (number or short string) and comes back verbatim; an error about a line
// whose id could not be read has id null. `tx` is a transaction id from transaction_start (0 or
// absent: none). `set_target` makes a dom0 connection act as a guest from then on. Replies on one
// connection come in request order, and a reply or event is sent only once every change it may
// reflect is on disk.

import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { ERRNOS } from './errors.js';

/** Longest line either side accepts. A request carries at most a 3 KiB path and a 4 KiB value,
 * so this is generous; it bounds what a misbehaving peer can make the other buffer. */
export const MAX_LINE_BYTES = 64 * 1024;

const id = z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().max(128)]);
// Lengths here only stop absurd input early; the registry applies Xen's limits with Xen's errnos.
const path = z.string().max(8192);
const domid = z.number().int().min(0).max(0xffff);
const txid = z.number().int().min(0).max(0xffffffff);

const noArgs = z.object({}).strict().optional();
const pathArgs = z.object({ path }).strict();

export const requestSchema = z.discriminatedUnion('op', [
  z.object({ id, tx: txid.optional(), op: z.literal('read'), args: pathArgs }).strict(),
  z.object({ id, tx: txid.optional(), op: z.literal('write'), args: z.object({ path, value: z.string().max(16384) }).strict() }).strict(),
  z.object({ id, tx: txid.optional(), op: z.literal('mkdir'), args: pathArgs }).strict(),
  z.object({ id, tx: txid.optional(), op: z.literal('rm'), args: pathArgs }).strict(),
  z.object({ id, tx: txid.optional(), op: z.literal('directory'), args: pathArgs }).strict(),
  z.object({ id, tx: txid.optional(), op: z.literal('get_perms'), args: pathArgs }).strict(),
  z
    .object({ id, tx: txid.optional(), op: z.literal('set_perms'), args: z.object({ path, perms: z.array(z.string().max(16)).min(1).max(1024) }).strict() })
    .strict(),
  z.object({ id, op: z.literal('watch'), args: z.object({ path, token: z.string().max(8192) }).strict() }).strict(),
  z.object({ id, op: z.literal('unwatch'), args: z.object({ path, token: z.string().max(8192) }).strict() }).strict(),
  z.object({ id, op: z.literal('transaction_start'), args: noArgs }).strict(),
  z.object({ id, tx: txid, op: z.literal('transaction_end'), args: z.object({ commit: z.boolean() }).strict() }).strict(),
  z.object({ id, op: z.literal('introduce_domain'), args: z.object({ domid }).strict() }).strict(),
  z.object({ id, op: z.literal('release_domain'), args: z.object({ domid }).strict() }).strict(),
  z.object({ id, op: z.literal('set_target'), args: z.object({ domid }).strict() }).strict(),
]);
export type Request = z.infer<typeof requestSchema>;
export type Op = Request['op'];
export type RequestId = z.infer<typeof id>;

export const replySchema = z.union([
  z.object({ id, ok: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]) }).strict(),
  z.object({ id: id.nullable(), error: z.enum(ERRNOS), message: z.string().optional() }).strict(),
  z.object({ event: z.literal('watch'), path: z.string(), token: z.string(), watch: z.string() }).strict(),
]);
export type DaemonMessage = z.infer<typeof replySchema>;

/** Splits a byte stream into lines, refusing (once, then nothing more) a line over the cap. */
export class LineSplitter {
  #parts: Buffer[] = [];
  #bytes = 0;
  #overflowed = false;

  constructor(
    readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.#overflowed) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.#bytes += end - start;
      if (this.#bytes > this.maxLineBytes) {
        this.#overflowed = true;
        this.#parts = [];
        this.onOverflow();
        return;
      }
      if (nl < 0) {
        if (end > start) this.#parts.push(chunk.subarray(start, end));
        return;
      }
      this.#parts.push(chunk.subarray(start, end));
      const line = Buffer.concat(this.#parts).toString('utf8');
      this.#parts = [];
      this.#bytes = 0;
      start = nl + 1;
      this.onLine(line);
    }
  }
}
