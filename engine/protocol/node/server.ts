// The protocol server, independent of any socket: it takes a method table with its handlers, an
// event table and stream openers, and serves connections that transports hand it through
// `accept`. The unix-socket and WebSocket listeners are such transports; tests use an object
// literal.
//
// Promises kept per connection, so one bad client cannot hurt the others or the engine:
// - nothing runs before the connection is authenticated; a malformed, oversized or
//   unauthenticated message gets an error and changes nothing;
// - requests run concurrently and answer in completion order; at most `maxInFlight` run at once,
//   beyond that the connection's input is paused (the client waits, others don't);
// - a client that does not read what it is sent is cut off once `maxBufferedBytes` are queued
//   for it, so its backlog cannot grow the engine's memory or hold up broadcasts;
// - a client that keeps sending garbage is cut off after `maxProtocolErrors` bad messages.

import { pipeline, type Duplex, type Readable, type Writable } from 'node:stream';
import type { z } from 'zod';
import { builtinMethods } from '../common/builtins.js';
import { lookup } from '../common/define.js';
import type {
  ConnectionInfo,
  EmptyTable,
  EventDataInputOf,
  EventName,
  EventTable,
  Handlers,
  MethodTable,
  RequestContext,
  StreamOpenerParamsOf,
  StreamTable,
} from '../common/define.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  describeIssues,
  encodeError,
  encodeResult,
  issuesData,
  parseClientMessage,
} from '../common/messages.js';
import type { ErrorBody, Request, RequestId } from '../common/messages.js';
import { topicMatches, unknownTopics } from '../common/topics.js';

/** What a stream opener hands back: one Duplex, or a readable and a writable side. */
export type StreamPipe = Duplex | { readonly readable: Readable; readonly writable: Writable };

export type StreamOpener<S extends StreamTable, K extends keyof S> = (
  params: StreamOpenerParamsOf<S, K>,
  ctx: RequestContext,
) => Promise<StreamPipe>;

export type StreamOpeners<S extends StreamTable> = { readonly [K in keyof S]: StreamOpener<S, K> };

export interface ProtocolLogger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface ServerLimits {
  /** Largest message accepted, in bytes (1 MiB). Transports enforce it before buffering more. */
  maxMessageBytes?: number;
  /** Bytes queued for one client beyond which it is cut off as not reading (8 MiB). */
  maxBufferedBytes?: number;
  /** Requests one connection may have running at once; more wait with its input paused (64). */
  maxInFlight?: number;
  /** Malformed or unauthenticated messages one connection may send before it is closed (16). */
  maxProtocolErrors?: number;
  /** A connection that has not authenticated within this time is closed (10 s). */
  authTimeoutMs?: number;
}

export interface ServerOptions<M extends MethodTable, E extends EventTable, S extends StreamTable> {
  methods: M;
  handlers: Handlers<M>;
  events?: E;
  streams?: S;
  streamOpeners?: StreamOpeners<S>;
  limits?: ServerLimits;
  /** Where refusals of clients and engine bugs are reported (default: console). */
  log?: ProtocolLogger;
}

/** Why a server ends a connection; transports map it to their close signal. */
export type CloseWhy =
  | 'too-large'
  | 'unauthenticated'
  | 'garbage'
  | 'not-reading'
  | 'stream-refused'
  | 'shutdown';

/**
 * What the server needs from a transport. Contract:
 * - `send(text)` queues one message; `bufferedBytes()` says how much is queued and unsent.
 * - `end(why)` flushes what is queued, then closes; `destroy(why)` closes at once.
 * - `pauseInput`/`resumeInput` stop and restart reading from the peer (messages already read may
 *   still arrive).
 * - `becomeStream(ack, pipe)` sends the ack message, then joins the connection's raw bytes to the
 *   pipe both ways with backpressure until either side ends; it calls `done` once, with the error
 *   that ended it, if any.
 * - The transport calls the handle's `receive` for each message and `closed` once when gone.
 */
export interface ServerTransport {
  readonly kind: string;
  readonly remote: string;
  send(text: string): void;
  bufferedBytes(): number;
  end(why: CloseWhy): void;
  destroy(why: CloseWhy): void;
  pauseInput(): void;
  resumeInput(): void;
  becomeStream(ack: string, pipe: StreamPipe, done: (error?: Error) => void): void;
}

export interface AcceptOptions {
  /** The token a first {auth} message (or a stream open's `token`) must carry. Absent: the
   * transport authenticated the peer already (unix-socket permissions, an HTTP header). */
  token?: string;
  /** Compares tokens in constant time; the listeners pass node/auth.ts's tokensEqual. */
  tokensEqual?: (given: string, expected: string) => boolean;
  /** Called once, when a connection that had to authenticate did. */
  onAuthenticated?: () => void;
}

/** The transport's handle on one connection. */
export interface ServerConnection {
  readonly info: ConnectionInfo;
  /** One received message. Returns 'stop' when the transport must stop splitting messages and
   * keep the remaining bytes raw: the message opened a stream, becomeStream follows. */
  receive(text: string): 'more' | 'stop';
  /** A message went over maxMessageBytes: the server answers TooLarge and ends the connection. */
  tooLarge(bytes: number): void;
  /** The peer finished sending (a half-close): answer what is running, then end. */
  inputEnded(): void;
  /** The connection is gone (either side closed it). */
  closed(): void;
}

/** What listeners need from a server: one method and its limits. */
export interface ConnectionAcceptor {
  readonly limits: Required<ServerLimits>;
  readonly log: ProtocolLogger;
  accept(transport: ServerTransport, opts?: AcceptOptions): ServerConnection;
}

const DEFAULTS: Required<ServerLimits> = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxInFlight: 64,
  maxProtocolErrors: 16,
  authTimeoutMs: 10_000,
};

export const consoleLogger: ProtocolLogger = {
  warn: (message) => console.warn(`engine protocol: ${message}`),
  error: (message, error) =>
    error === undefined ? console.error(`engine protocol: ${message}`) : console.error(`engine protocol: ${message}`, error),
};

type AnyHandler = (params: unknown, ctx: RequestContext) => unknown;
type AnyOpener = (params: unknown, ctx: RequestContext) => Promise<StreamPipe>;

/** What a connection needs from its server; kept off the server's public face. */
interface ServerCore {
  readonly methods: MethodTable;
  readonly handlers: Readonly<Record<string, AnyHandler>>;
  readonly eventNames: readonly string[];
  readonly streams: StreamTable | undefined;
  readonly streamOpeners: Readonly<Record<string, AnyOpener>> | undefined;
  readonly limits: Required<ServerLimits>;
  readonly log: ProtocolLogger;
  forget(connection: Connection): void;
}

export class ProtocolServer<
  M extends MethodTable = MethodTable,
  E extends EventTable = EmptyTable,
  S extends StreamTable = EmptyTable,
> implements ConnectionAcceptor {
  readonly limits: Required<ServerLimits>;
  readonly log: ProtocolLogger;
  readonly #events: E | undefined;
  readonly #connections = new Set<Connection>();
  readonly #core: ServerCore;
  #nextConnectionId = 1;

  constructor(opts: ServerOptions<M, E, S>) {
    this.#events = opts.events;
    this.log = opts.log ?? consoleLogger;
    this.limits = { ...DEFAULTS, ...opts.limits };
    const handlers = opts.handlers as unknown as Readonly<Record<string, AnyHandler>>;
    const streamOpeners = opts.streamOpeners as unknown as Readonly<Record<string, AnyOpener>> | undefined;
    for (const name of Object.keys(opts.methods)) {
      if (typeof lookup(handlers, name) !== 'function') throw new TypeError(`no handler for method '${name}'`);
    }
    for (const kind of Object.keys(opts.streams ?? {})) {
      if (typeof lookup(streamOpeners, kind) !== 'function') throw new TypeError(`no opener for stream kind '${kind}'`);
    }
    this.#core = {
      methods: opts.methods,
      handlers,
      eventNames: Object.keys(opts.events ?? {}),
      streams: opts.streams,
      streamOpeners,
      limits: this.limits,
      log: this.log,
      forget: (connection) => this.#connections.delete(connection),
    };
  }

  /** Live connections (request connections and open streams). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Serves a new connection. See ServerTransport for what the transport must do. */
  accept(transport: ServerTransport, opts: AcceptOptions = {}): ServerConnection {
    const connection = new Connection(this.#core, this.#nextConnectionId++, transport, opts);
    this.#connections.add(connection);
    return connection;
  }

  /**
   * Sends `event` to every authenticated connection subscribed to it. The data is validated
   * against the event table first: data that does not match is an engine bug, logged and not
   * sent. Returns how many connections it was sent to.
   */
  broadcast<K extends EventName<E>>(event: K, data: EventDataInputOf<E, K>): number {
    const spec = lookup(this.#events, event);
    if (spec === undefined) {
      this.log.error(`bug: broadcast of event '${event}', which is not in the event table`);
      return 0;
    }
    const parsed = spec.data.safeParse(data);
    if (!parsed.success) {
      this.log.error(`bug: event '${event}' does not match its schema (${describeIssues(parsed.error.issues)}); not sent`);
      return 0;
    }
    let text: string;
    try {
      text = JSON.stringify({ event, data: parsed.data });
    } catch (error) {
      this.log.error(`bug: event '${event}' is not JSON; not sent`, error);
      return 0;
    }
    let sent = 0;
    for (const connection of [...this.#connections]) {
      if (connection.wants(event) && connection.sendText(text)) sent++;
    }
    return sent;
  }

  /** Ends every connection (flushing what is queued). Listeners stop accepting on their own. */
  closeAll(): void {
    for (const connection of [...this.#connections]) connection.end('shutdown');
  }
}

type ConnectionState = 'fresh' | 'rpc' | 'opening-stream' | 'stream' | 'closed';

class Connection implements ServerConnection {
  readonly info: ConnectionInfo;
  #state: ConnectionState = 'fresh';
  #authenticated: boolean;
  readonly #server: ServerCore;
  readonly #transport: ServerTransport;
  readonly #token: string | undefined;
  readonly #tokensEqual: (given: string, expected: string) => boolean;
  readonly #onAuthenticated: (() => void) | undefined;
  readonly #log: ProtocolLogger;
  readonly #abort = new AbortController();
  readonly #topics = new Set<string>();
  /** Messages read while maxInFlight requests were running; bounded by what a transport reads
   * between pauseInput and the input actually stopping. */
  readonly #queue: string[] = [];
  #inFlight = 0;
  #inputEnded = false;
  #protocolErrors = 0;
  #authTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(server: ServerCore, id: number, transport: ServerTransport, opts: AcceptOptions) {
    this.#server = server;
    this.#transport = transport;
    this.#token = opts.token;
    this.#tokensEqual = opts.tokensEqual ?? ((a, b) => a === b);
    this.#onAuthenticated = opts.onAuthenticated;
    this.#authenticated = opts.token === undefined;
    this.#log = server.log;
    this.info = { id, transport: transport.kind, remote: transport.remote };
    if (!this.#authenticated) {
      this.#authTimer = setTimeout(() => {
        this.#log.warn(`${this.#name}: closed, no authentication within ${server.limits.authTimeoutMs} ms`);
        this.#sendError(null, { code: 'Unauthenticated', message: 'authentication timed out' });
        this.end('unauthenticated');
      }, server.limits.authTimeoutMs);
      this.#authTimer.unref?.();
    }
  }

  get #name(): string {
    return `${this.info.transport} connection ${this.info.id} (${this.info.remote})`;
  }

  wants(event: string): boolean {
    if (!this.#authenticated || (this.#state !== 'fresh' && this.#state !== 'rpc')) return false;
    for (const topic of this.#topics) if (topicMatches(topic, event)) return true;
    return false;
  }

  receive(text: string): 'more' | 'stop' {
    if (this.#state === 'closed' || this.#state === 'stream' || this.#state === 'opening-stream') return 'stop';
    if (this.#inFlight >= this.#server.limits.maxInFlight || this.#queue.length > 0) {
      this.#queue.push(text);
      this.#transport.pauseInput();
      return 'more';
    }
    return this.#handle(text);
  }

  tooLarge(bytes: number): void {
    if (this.#state === 'closed') return;
    const max = this.#server.limits.maxMessageBytes;
    this.#log.warn(`${this.#name}: closed, a message of ${bytes}+ bytes is over the ${max}-byte limit`);
    this.#sendError(null, { code: 'TooLarge', message: `a message is over the ${max}-byte limit; closing the connection` });
    this.end('too-large');
  }

  inputEnded(): void {
    this.#inputEnded = true;
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#inputEnded && this.#inFlight === 0 && this.#queue.length === 0 && (this.#state === 'fresh' || this.#state === 'rpc')) {
      this.end('shutdown');
    }
  }

  closed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#authTimer);
    this.#queue.length = 0;
    this.#abort.abort(new Error('the client disconnected'));
    this.#server.forget(this);
  }

  end(why: CloseWhy): void {
    if (this.#state === 'closed') return;
    this.#transport.end(why);
    this.closed();
  }

  /** Sends a ready-made message, cutting the client off if it is not reading. */
  sendText(text: string): boolean {
    if (this.#state === 'closed') return false;
    const queued = this.#transport.bufferedBytes();
    if (queued > this.#server.limits.maxBufferedBytes) {
      this.#log.warn(`${this.#name}: closed, the client is not reading (${queued} bytes queued for it)`);
      this.#transport.destroy('not-reading');
      this.closed();
      return false;
    }
    this.#transport.send(text);
    return true;
  }

  #handle(text: string): 'more' | 'stop' {
    const message = parseClientMessage(text);
    switch (message.kind) {
      case 'invalid':
        this.#sendError(message.id, { code: message.code, message: message.message });
        this.#countProtocolError();
        return 'more';
      case 'auth':
        this.#authenticate(message.token);
        return 'more';
      case 'stream':
        return this.#openStream(message.stream, message.params, message.token);
      case 'request':
        if (!this.#authenticated) {
          this.#sendError(message.request.id, {
            code: 'Unauthenticated',
            message: 'authenticate first: send {"auth": "<token>"} before any request',
          });
          this.#countProtocolError();
          return 'more';
        }
        this.#state = 'rpc';
        this.#dispatch(message.request);
        return 'more';
    }
  }

  #authenticate(token: string): void {
    if (this.#token === undefined || this.#tokensEqual(token, this.#token)) {
      this.#authenticated = true;
      clearTimeout(this.#authTimer);
      this.#onAuthenticated?.();
      this.sendText(JSON.stringify({ auth: 'ok' }));
      return;
    }
    this.#log.warn(`${this.#name}: closed, wrong token`);
    this.#sendError(null, { code: 'Unauthenticated', message: 'wrong token' });
    this.end('unauthenticated');
  }

  #countProtocolError(): void {
    if (++this.#protocolErrors < this.#server.limits.maxProtocolErrors) return;
    this.#log.warn(`${this.#name}: closed after ${this.#protocolErrors} malformed or unauthenticated messages`);
    this.end('garbage');
  }

  #dispatch(request: Request): void {
    const { id, method } = request;
    const isBuiltin = Object.hasOwn(builtinMethods, method);
    const spec = isBuiltin ? builtinMethods[method as keyof typeof builtinMethods] : lookup(this.#server.methods, method);
    if (spec === undefined) {
      this.#sendError(id, { code: 'MethodNotFound', message: `there is no method '${excerpt(method)}'` });
      return;
    }
    const params = spec.params.safeParse(request.params);
    if (!params.success) {
      this.#sendError(id, {
        code: 'InvalidParams',
        message: `invalid params for '${method}': ${describeIssues(params.error.issues)}`,
        data: issuesData(params.error.issues),
      });
      return;
    }
    const handler = isBuiltin
      ? (p: unknown) => this.#builtin(method, p)
      : (lookup(this.#server.handlers, method) as AnyHandler);
    const ctx: RequestContext = { connection: this.info, signal: this.#abort.signal };
    this.#inFlight++;
    // Through a promise so a handler that throws synchronously is answered like one that rejects.
    void Promise.resolve()
      .then(() => handler(params.data, ctx))
      .then(
        (result) => this.#answer(id, method, spec.result, result),
        (error: unknown) => this.#sendError(id, this.#errorBody(`'${method}'`, error)),
      )
      .finally(() => {
        this.#inFlight--;
        this.#drainQueue();
      });
  }

  #answer(id: RequestId, method: string, schema: z.ZodType, result: unknown): void {
    const parsed = schema.safeParse(result);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error.issues);
      this.#log.error(`bug: the result of '${method}' does not match its schema (${issues})`);
      this.#sendError(id, { code: 'Internal', message: `the engine produced an invalid result for '${method}' (${issues})` });
      return;
    }
    let text: string;
    try {
      text = encodeResult(id, parsed.data);
    } catch (error) {
      this.#log.error(`bug: the result of '${method}' is not JSON`, error);
      this.#sendError(id, { code: 'Internal', message: `the engine produced a result for '${method}' that is not JSON` });
      return;
    }
    this.sendText(text);
  }

  /** Errors that name themselves (a `code` string: DomainError, RpcError) pass through; anything
   * else is a failure nobody planned for, logged with its stack. */
  #errorBody(what: string, error: unknown): ErrorBody {
    if (typeof error === 'object' && error !== null) {
      const { code, message, data } = error as { code?: unknown; message?: unknown; data?: unknown };
      if (typeof code === 'string' && code.length > 0) {
        const text = typeof message === 'string' ? message : code;
        return data === undefined ? { code, message: text } : { code, message: text, data };
      }
    }
    this.#log.error(`${what} failed unexpectedly`, error);
    return { code: 'Internal', message: error instanceof Error ? error.message : `${what} failed: ${String(error)}` };
  }

  #builtin(method: string, params: unknown): { topics: string[] } {
    const { topics } = params as { topics: string[] };
    if (method === 'events.subscribe') {
      const unknown = unknownTopics(topics, this.#server.eventNames);
      if (unknown.length > 0) {
        const known = this.#server.eventNames.length === 0 ? 'this server sends no events' : `events: ${this.#server.eventNames.join(', ')}`;
        throw Object.assign(new Error(`invalid params for 'events.subscribe': no event matches topic '${unknown[0]}' (${known})`), {
          code: 'InvalidParams',
        });
      }
      for (const topic of topics) this.#topics.add(topic);
    } else {
      for (const topic of topics) this.#topics.delete(topic);
    }
    return { topics: [...this.#topics] };
  }

  #sendError(id: RequestId | null, body: ErrorBody): void {
    let text: string;
    try {
      text = encodeError(id, body);
    } catch {
      // Error data that is not JSON (a cycle, a BigInt): the code and message still go.
      text = encodeError(id, { code: body.code, message: body.message });
    }
    this.sendText(text);
  }

  #drainQueue(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#server.limits.maxInFlight && this.#state !== 'closed') {
      this.#handle(this.#queue.shift() as string);
    }
    if (this.#queue.length === 0 && this.#state !== 'closed') this.#transport.resumeInput();
    this.#maybeFinish();
  }

  #openStream(kind: string, params: unknown, token: string | undefined): 'more' | 'stop' {
    if (this.#state !== 'fresh') {
      this.#sendError(null, { code: 'InvalidRequest', message: 'a stream can only be opened by the first message of a connection' });
      this.#countProtocolError();
      return 'more';
    }
    if (!this.#authenticated) {
      if (token === undefined || this.#token === undefined || !this.#tokensEqual(token, this.#token)) {
        this.#log.warn(`${this.#name}: stream refused, ${token === undefined ? 'no token' : 'wrong token'}`);
        this.#refuseStream({
          code: 'Unauthenticated',
          message: token === undefined ? 'a stream open needs a token on this connection' : 'wrong token',
        });
        return 'stop';
      }
      this.#authenticated = true;
      clearTimeout(this.#authTimer);
      this.#onAuthenticated?.();
    }
    this.#state = 'opening-stream';
    this.#transport.pauseInput();
    const spec = lookup(this.#server.streams, kind);
    const opener = lookup(this.#server.streamOpeners, kind);
    if (spec === undefined || opener === undefined) {
      this.#refuseStream({ code: 'MethodNotFound', message: `there is no stream kind '${excerpt(kind)}'` });
      return 'stop';
    }
    const parsed = spec.params.safeParse(params);
    if (!parsed.success) {
      this.#refuseStream({
        code: 'InvalidParams',
        message: `invalid params for stream '${kind}': ${describeIssues(parsed.error.issues)}`,
        data: issuesData(parsed.error.issues),
      });
      return 'stop';
    }
    const ctx: RequestContext = { connection: this.info, signal: this.#abort.signal };
    void Promise.resolve()
      .then(() => opener(parsed.data, ctx))
      .then(
        (pipe) => {
          if (this.#state === 'closed') {
            destroyPipe(pipe);
            return;
          }
          this.#state = 'stream';
          this.#transport.becomeStream(JSON.stringify({ ok: true }), pipe, (error) => {
            if (error !== undefined && !isBenignStreamEnd(error)) this.#log.warn(`${this.#name}: stream '${kind}' ended: ${error.message}`);
            this.closed();
          });
        },
        (error: unknown) => this.#refuseStream(this.#errorBody(`stream '${kind}'`, error)),
      );
    return 'stop';
  }

  #refuseStream(error: ErrorBody): void {
    if (this.#state === 'closed') return;
    this.sendText(JSON.stringify({ ok: false, error }));
    this.end('stream-refused');
  }
}

/**
 * Joins a connection's raw byte stream to an opener's pipe, both ways, with backpressure, and
 * calls `done` once both directions have ended, with the first error if any.
 */
export function joinStream(connection: Duplex, pipe: StreamPipe, done: (error?: Error) => void): void {
  const { readable, writable, same } = sidesOf(pipe);
  if (same) {
    pipeline(connection, readable as unknown as NodeJS.ReadWriteStream, connection, (error) => done(error ?? undefined));
    return;
  }
  let open = 2;
  let first: Error | undefined;
  const finish = (error: Error | null) => {
    first ??= error ?? undefined;
    if (--open === 0) done(first);
  };
  pipeline(connection, writable, finish);
  pipeline(readable, connection, finish);
}

/** The two sides of a pipe; `same` when they are one Duplex (a Duplex's own `readable` and
 * `writable` are booleans, which is how the two shapes are told apart). */
export function sidesOf(pipe: StreamPipe): { readable: Readable; writable: Writable; same: boolean } {
  const { readable, writable } = pipe as { readable: unknown; writable: unknown };
  if (typeof readable === 'object' && readable !== null && typeof writable === 'object' && writable !== null) {
    return { readable: readable as Readable, writable: writable as Writable, same: readable === writable };
  }
  return { readable: pipe as Duplex, writable: pipe as Duplex, same: true };
}

function destroyPipe(pipe: StreamPipe): void {
  const { readable, writable } = sidesOf(pipe);
  readable.destroy();
  writable.destroy();
}

/** A peer hanging up mid-stream is how streams end; not worth a warning. */
function isBenignStreamEnd(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}

function excerpt(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
