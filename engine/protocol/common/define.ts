// The shape of a protocol: methods, events and stream kinds, each declared once with its schemas
// and a doc line, and the types both ends derive from them. The server validates every request
// against `params` and every answer against `result`; the client validates answers again, so
// version skew shows up as a named error instead of undefined fields deep in the GUI.
//
// Schemas travel through parse twice (server, then client), so they must be idempotent: no
// transforms, no defaults that change a second parse. z.object strips unknown keys, which is
// wanted: a handler that returns an internal object sends only the declared fields.
// `undefined` does not exist in JSON: a method with nothing to return declares `result: z.void()`
// or `z.null()`; both arrive as undefined/null. A method with no parameters declares
// `params: z.void()` (or an `.optional()` object) and is called without them.

import type { z } from 'zod';

/** One method. `doc` says what it does and in which states it is allowed; `errors` names the
 * codes it refuses with (documentation: the server does not restrict codes to this list). */
export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly params: P;
  readonly result: R;
  readonly doc: string;
  readonly errors?: readonly string[];
}

export interface EventSpec<D extends z.ZodType = z.ZodType> {
  readonly data: D;
  readonly doc: string;
}

/** A binary stream channel: a separate connection that becomes a raw byte pipe once opened. */
export interface StreamSpec<P extends z.ZodType = z.ZodType> {
  readonly params: P;
  readonly doc: string;
  readonly errors?: readonly string[];
}

export type MethodTable = { readonly [name: string]: MethodSpec };
export type EventTable = { readonly [name: string]: EventSpec };
export type StreamTable = { readonly [kind: string]: StreamSpec };
/** A table with no entries: the default for events and streams. */
export type EmptyTable = Record<never, never>;

export type MethodName<T extends MethodTable> = keyof T & string;
export type EventName<T extends EventTable> = keyof T & string;
export type StreamKind<T extends StreamTable> = keyof T & string;

/** What a caller passes (the schema's input). */
export type ParamsOf<T extends MethodTable, M extends keyof T> = z.input<T[M]['params']>;
/** What a caller receives (the schema's output). */
export type ResultOf<T extends MethodTable, M extends keyof T> = z.output<T[M]['result']>;
/** What a handler receives: params after validation. */
export type HandlerParamsOf<T extends MethodTable, M extends keyof T> = z.output<T[M]['params']>;
/** What a handler returns: anything the result schema accepts. */
export type HandlerResultOf<T extends MethodTable, M extends keyof T> = z.input<T[M]['result']>;
/** What `broadcast` takes. */
export type EventDataInputOf<T extends EventTable, E extends keyof T> = z.input<T[E]['data']>;
/** What an event listener receives. */
export type EventDataOf<T extends EventTable, E extends keyof T> = z.output<T[E]['data']>;
export type StreamParamsOf<T extends StreamTable, K extends keyof T> = z.input<T[K]['params']>;
export type StreamOpenerParamsOf<T extends StreamTable, K extends keyof T> = z.output<T[K]['params']>;

/** Who is calling: handed to every handler and stream opener. */
export interface ConnectionInfo {
  /** Unique per server, for logs. */
  readonly id: number;
  /** 'unix' or 'websocket' (or a custom transport's name). */
  readonly transport: string;
  /** The peer as the transport knows it (a unix connection number, an IP:port), for logs. */
  readonly remote: string;
}

export interface RequestContext {
  readonly connection: ConnectionInfo;
  /** Aborted when the connection closes: long operations may stop, nobody will read the answer. */
  readonly signal: AbortSignal;
}

export type Handler<T extends MethodTable, M extends keyof T> = (
  params: HandlerParamsOf<T, M>,
  ctx: RequestContext,
) => Promise<HandlerResultOf<T, M>> | HandlerResultOf<T, M>;

/** One handler per method of the table: a missing one is a compile error. */
export type Handlers<T extends MethodTable> = { readonly [M in keyof T]: Handler<T, M> };

/** Methods every server answers; their names cannot be declared in a table. */
export const RESERVED_METHODS = ['events.subscribe', 'events.unsubscribe'] as const;

/** Declares a method table; the identity at runtime, apart from refusing reserved names. */
export function defineMethods<const T extends MethodTable>(table: T): T {
  for (const name of RESERVED_METHODS) {
    if (Object.hasOwn(table, name)) throw new TypeError(`method name '${name}' is reserved by the protocol`);
  }
  for (const name of Object.keys(table)) checkName(name, 'method');
  return table;
}

export function defineEvents<const T extends EventTable>(table: T): T {
  for (const name of Object.keys(table)) checkName(name, 'event');
  return table;
}

export function defineStreams<const T extends StreamTable>(table: T): T {
  for (const name of Object.keys(table)) checkName(name, 'stream kind');
  return table;
}

/** Names are dotted words, so topic prefixes (`domain.*`) are unambiguous. */
const NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*$/;

function checkName(name: string, what: string): void {
  if (!NAME.test(name)) throw new TypeError(`${what} name '${name}' must be dotted words like 'domain.list'`);
}

/** The own-property lookup: a name like 'constructor' or '__proto__' must not find Object's. */
export function lookup<V>(table: { readonly [name: string]: V } | undefined, name: string): V | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}
