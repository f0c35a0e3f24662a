// The engine-protocol client: one connection to one server, typed by the method, event and
// stream tables it is given. Used alike by the CLIs and other engines (node/ transports) and by
// the renderer (browser/ transport), so it imports nothing from Node.
//
//   open ──close()──▶ closing ──transport gone──▶ closed
//     └───────────── server hangs up / protocol violation ─────────▲
//
// Connecting (sockets, tokens) is the transport helpers' job: a client starts open. Ids are
// assigned here; every call has a timeout; when the connection ends, for whatever reason, every
// pending call fails with DisconnectedError, onClose listeners fire once and `closed` resolves.
// A message that is not this protocol (bad JSON, unknown shape, a reply to an id never issued)
// ends the connection: after one, replies can no longer be trusted to match their calls. A result
// or event that does not match its schema fails only that call or event (version skew).

import type { z } from 'zod';
import { builtinMethods } from './builtins.js';
import type { BuiltinMethods } from './builtins.js';
import { lookup } from './define.js';
import type {
  EmptyTable,
  EventDataOf,
  EventName,
  EventTable,
  MethodName,
  MethodTable,
  ParamsOf,
  ResultOf,
  StreamKind,
  StreamParamsOf,
  StreamTable,
} from './define.js';
import {
  CallTimeoutError,
  DisconnectedError,
  ProtocolError,
  RemoteError,
  StateError,
} from './errors.js';
import type { CloseReason } from './errors.js';
import { describeIssues, encodeRequest, parseServerMessage } from './messages.js';
import type { ClientTransport } from './transport.js';

export type ClientState = 'open' | 'closing' | 'closed';

export interface Disposable {
  dispose(): void;
}

export interface CallOptions {
  /** Overrides the client's default call timeout. `Infinity` waits forever. */
  timeoutMs?: number;
  /** Rejects the call with the signal's reason when aborted. The server is not told: the method
   * may still run to completion, its late reply is dropped. */
  signal?: AbortSignal;
}

/** Opens a stream channel: a new connection to the same server, see node/ and browser/. */
export type StreamConnector<Stream> = (kind: string, params: unknown) => Promise<Stream>;

export interface ClientOptions<E extends EventTable, S extends StreamTable, Stream> {
  /** The event table: events are validated against it before listeners see them. */
  events?: E;
  /** The stream table; with `connectStream`, enables openStream. */
  streams?: S;
  connectStream?: StreamConnector<Stream>;
  /** Default per-call timeout (30 s). `Infinity` waits forever. */
  callTimeoutMs?: number;
  /** Names the server in errors (a socket path or URL without its token). */
  target?: string;
  /** Where exceptions thrown by event and close listeners go (default: console.error). */
  onListenerError?: (error: unknown, event: string | undefined) => void;
  /** Events that are unknown or do not match their schema are dropped and reported here
   * (default: console.warn): version skew, not a reason to drop the connection. */
  onProtocolWarning?: (error: ProtocolError) => void;
}

/** A topic: an event name, a prefix ending in '.*', or '*'. */
export type TopicOf<E extends EventTable> = EventName<E> | `${string}.*` | '*';

/** Params are optional exactly when the method's schema accepts undefined. */
export type CallArgs<M extends MethodTable, K extends keyof M> = undefined extends ParamsOf<M, K>
  ? [params?: ParamsOf<M, K>, options?: CallOptions]
  : [params: ParamsOf<M, K>, options?: CallOptions];

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** setTimeout fires at once for delays beyond 2^31-1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Pending {
  method: string;
  schema: z.ZodType;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

type Listener = (data: unknown) => void;

export class ProtocolClient<
  M extends MethodTable,
  E extends EventTable = EmptyTable,
  S extends StreamTable = EmptyTable,
  Stream = never,
> {
  #state: ClientState = 'open';
  readonly #transport: ClientTransport;
  readonly #methods: M;
  readonly #events: E | undefined;
  readonly #streams: S | undefined;
  readonly #connectStream: StreamConnector<Stream> | undefined;
  readonly #callTimeoutMs: number;
  readonly #target: string;
  readonly #onListenerError: (error: unknown, event: string | undefined) => void;
  readonly #onProtocolWarning: (error: ProtocolError) => void;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #closeListeners = new Set<(reason: CloseReason) => void>();
  /** What the server said last without an id (Unauthenticated, TooLarge): why it is hanging up. */
  #lastServerError: RemoteError | undefined;
  #closeReason: CloseReason | undefined;
  #resolveClosed!: (reason: CloseReason) => void;

  /** Resolves (never rejects) with the reason once the connection is gone. */
  readonly closed: Promise<CloseReason>;

  constructor(transport: ClientTransport, methods: M, opts: ClientOptions<E, S, Stream> = {}) {
    this.#transport = transport;
    this.#methods = methods;
    this.#events = opts.events;
    this.#streams = opts.streams;
    this.#connectStream = opts.connectStream;
    this.#callTimeoutMs = checkTimeout(opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, 'callTimeoutMs');
    this.#target = opts.target ?? 'the engine';
    this.#onListenerError =
      opts.onListenerError ??
      ((error, event) => console.error(`engine protocol: listener for ${event === undefined ? 'close' : `'${event}'`} threw:`, error));
    this.#onProtocolWarning = opts.onProtocolWarning ?? ((error) => console.warn(`engine protocol: ${error.message}`));
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    transport.onMessage((text) => this.#onMessage(text));
    transport.onClose((error) => this.#onTransportClose(error));
  }

  get state(): ClientState {
    return this.#state;
  }

  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /**
   * Calls `method` and resolves with its result, validated against the table. Rejects with
   * RemoteError when the server answers with an error, ProtocolError when the result does not
   * match its schema, CallTimeoutError, DisconnectedError, or StateError once closing.
   */
  call<K extends MethodName<M>>(method: K, ...args: CallArgs<M, K>): Promise<ResultOf<M, K>> {
    const [params, options] = args as [unknown, CallOptions | undefined];
    const spec = lookup(this.#methods, method);
    if (spec === undefined) {
      return Promise.reject(new TypeError(`method '${method}' is not in this client's method table`));
    }
    return this.#request(method, params, spec.result, options) as Promise<ResultOf<M, K>>;
  }

  /** Subscribes this connection to events (see topics.ts); resolves with all its topics. */
  async subscribe(topics: readonly TopicOf<E>[], options?: CallOptions): Promise<string[]> {
    const result = await this.#builtin('events.subscribe', { topics: [...topics] }, options);
    return result.topics;
  }

  async unsubscribe(topics: readonly TopicOf<E>[], options?: CallOptions): Promise<string[]> {
    const result = await this.#builtin('events.unsubscribe', { topics: [...topics] }, options);
    return result.topics;
  }

  /**
   * Calls `handler` with each `event` this connection receives, in arrival order, until disposed.
   * Only subscribed events arrive: call `subscribe` too. A handler that throws is reported to
   * onListenerError and does not stop the others.
   */
  on<K extends EventName<E>>(event: K, handler: (data: EventDataOf<E, K>) => void): Disposable {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    // Wrapped so registering one function twice gives two entries, each disposed on its own.
    const entry: Listener = (data) => handler(data as EventDataOf<E, K>);
    set.add(entry);
    return { dispose: () => void set.delete(entry) };
  }

  /** Calls `cb` once when the connection ends (at once, asynchronously, if it has ended). */
  onClose(cb: (reason: CloseReason) => void): Disposable {
    if (this.#closeReason !== undefined) {
      const reason = this.#closeReason;
      queueMicrotask(() => this.#callCloseListener(cb, reason));
      return { dispose: () => undefined };
    }
    this.#closeListeners.add(cb);
    return { dispose: () => void this.#closeListeners.delete(cb) };
  }

  /**
   * Opens a binary stream channel on a new connection to the same server. Resolves once the
   * server accepted it; rejects with RemoteError if it refused (unknown kind, bad params, the
   * opener failed) or ConnectError if the connection failed.
   */
  openStream<K extends StreamKind<S>>(kind: K, params: StreamParamsOf<S, K>): Promise<Stream> {
    if (this.#connectStream === undefined || lookup(this.#streams, kind) === undefined) {
      return Promise.reject(new TypeError(`stream kind '${kind}' is not available on this client`));
    }
    if (this.#state !== 'open') {
      return Promise.reject(new StateError(this.#state, `cannot open a stream: the client is ${this.#state}`));
    }
    return this.#connectStream(kind, params);
  }

  /** Closes the connection; pending calls fail with DisconnectedError. Resolves when closed. */
  close(): Promise<CloseReason> {
    if (this.#state === 'open') {
      this.#state = 'closing';
      this.#closeReason ??= { kind: 'local' };
      this.#failPending();
      this.#transport.close();
    }
    return this.closed;
  }

  #builtin<K extends keyof BuiltinMethods>(
    method: K,
    params: z.input<BuiltinMethods[K]['params']>,
    options: CallOptions | undefined,
  ): Promise<z.output<BuiltinMethods[K]['result']>> {
    return this.#request(method, params, builtinMethods[method].result, options) as Promise<
      z.output<BuiltinMethods[K]['result']>
    >;
  }

  #request(method: string, params: unknown, schema: z.ZodType, options: CallOptions | undefined): Promise<unknown> {
    if (this.#state !== 'open') {
      return Promise.reject(
        this.#closeReason !== undefined && this.#closeReason.kind !== 'local'
          ? new DisconnectedError(this.#closeReason, method)
          : new StateError(this.#state, `cannot call '${method}': the client is ${this.#state}`),
      );
    }
    const timeoutMs = checkTimeout(options?.timeoutMs ?? this.#callTimeoutMs, 'timeoutMs');
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    let text: string;
    try {
      text = encodeRequest(id, method, params);
    } catch (error) {
      return Promise.reject(new TypeError(`the params of '${method}' are not JSON: ${(error as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === Infinity
          ? undefined
          : setTimeout(() => {
              this.#settle(id)?.reject(new CallTimeoutError(method, timeoutMs));
            }, Math.min(timeoutMs, MAX_TIMER_MS));
      const onAbort = () => this.#settle(id)?.reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        method,
        schema,
        resolve,
        reject,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      });
      this.#transport.send(text);
    });
  }

  /** Removes a pending call and returns it, cleaned up, for the caller to settle. */
  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    pending.cleanup();
    return pending;
  }

  #onMessage(text: string): void {
    // After close() or a violation nothing that arrives can be trusted or is awaited.
    if (this.#state !== 'open') return;
    const message = parseServerMessage(text);
    switch (message.kind) {
      case 'invalid':
        return this.#violation(new ProtocolError(message.failure, `${this.#target} sent ${message.message}`, text));
      case 'auth-ok':
        return;
      case 'event':
        return this.#dispatch(message.event, message.data);
      case 'error': {
        if (message.id === null) {
          // Said about the connection, not a call: the server is about to hang up. Keep it as the
          // reason; it must not fail an unrelated pending call.
          this.#lastServerError = new RemoteError(message.error.code, message.error.message, message.error.data);
          return;
        }
        const pending = this.#reply(message.id, text);
        pending?.reject(new RemoteError(message.error.code, message.error.message, message.error.data, pending.method));
        return;
      }
      case 'result': {
        const pending = this.#reply(message.id, text);
        if (pending === undefined) return;
        let parsed = pending.schema.safeParse(message.result);
        // A void result travels as null (messages.ts): let a schema for undefined accept it.
        if (!parsed.success && message.result === null) {
          const asUndefined = pending.schema.safeParse(undefined);
          if (asUndefined.success) parsed = asUndefined;
        }
        if (parsed.success) pending.resolve(parsed.data);
        else {
          pending.reject(
            new ProtocolError(
              'invalid-result',
              `the result of '${pending.method}' from ${this.#target} does not match its schema ` +
                `(${describeIssues(parsed.error.issues)}): are the client and the engine the same version?`,
            ),
          );
        }
        return;
      }
    }
  }

  /** The pending call a reply is for. A late reply to a call that timed out or was aborted is
   * dropped; a reply to an id never issued breaks the connection. */
  #reply(id: number | string, text: string): Pending | undefined {
    const pending = typeof id === 'number' ? this.#settle(id) : undefined;
    if (pending !== undefined) return pending;
    if (typeof id === 'number' && Number.isInteger(id) && id >= 1 && id < this.#nextId) return undefined;
    this.#violation(new ProtocolError('unknown-id', `${this.#target} replied to id ${JSON.stringify(id)}, which this client never sent`, text));
    return undefined;
  }

  #dispatch(event: string, data: unknown): void {
    const spec = lookup(this.#events, event);
    if (spec === undefined) {
      this.#onProtocolWarning(new ProtocolError('invalid-event', `${this.#target} sent event '${event}', which is not in the event table`));
      return;
    }
    const parsed = spec.data.safeParse(data);
    if (!parsed.success) {
      this.#onProtocolWarning(
        new ProtocolError('invalid-event', `event '${event}' from ${this.#target} does not match its schema (${describeIssues(parsed.error.issues)})`),
      );
      return;
    }
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(parsed.data);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  #violation(error: ProtocolError): void {
    if (this.#state === 'closed') return;
    this.#closeReason ??= { kind: 'protocol', error };
    this.#state = 'closing';
    this.#failPending();
    this.#transport.close();
  }

  #onTransportClose(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#closeReason ??= { kind: 'remote', error: this.#lastServerError ?? error };
    this.#state = 'closed';
    this.#failPending();
    const reason = this.#closeReason;
    for (const cb of [...this.#closeListeners]) this.#callCloseListener(cb, reason);
    this.#closeListeners.clear();
    this.#listeners.clear();
    this.#resolveClosed(reason);
  }

  #failPending(): void {
    const reason = this.#closeReason ?? { kind: 'local' };
    for (const id of [...this.#pending.keys()]) {
      const pending = this.#settle(id);
      pending?.reject(new DisconnectedError(reason, pending.method));
    }
  }

  #callCloseListener(cb: (reason: CloseReason) => void, reason: CloseReason): void {
    try {
      cb(reason);
    } catch (error) {
      this.#onListenerError(error, undefined);
    }
  }
}

function checkTimeout(ms: number, name: string): number {
  if (!(ms > 0)) throw new RangeError(`${name} must be a positive number of milliseconds or Infinity (got ${ms})`);
  return ms;
}
