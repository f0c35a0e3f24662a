// The QMP client: one connection to one QEMU, driven through a state machine (after QEMU's
// python/qemu/qmp/protocol.py):
//
//   idle ──connect()──▶ connecting ──greeting + qmp_capabilities──▶ running
//                           │                                          │
//                           └──────── failure / close() / EOF ─────────┤
//                                                                      ▼
//                                                   disconnecting ──socket gone──▶ closed
//
// A client is used for one connection; a new connection needs a new client. Commands are allowed
// only while running. When the connection ends, for whatever reason, every pending command and
// waitFor fails with DisconnectedError, onClose listeners fire once and `closed` resolves: the
// socket closing is how the engine learns that QEMU is gone (a dead QEMU can stay a zombie for
// seconds here, so its pid is no signal).
//
// A line from QEMU that is not QMP (bad JSON, unknown shape, a reply to an id we never issued, a
// line over the cap) ends the connection with a ProtocolError as the reason: after one, we can no
// longer trust that a reply belongs to the command it names.

import { ConnectError, DisconnectedError, ExecTimeoutError, ExecuteError, ProtocolError, StateError } from './errors.js';
import type { CloseReason } from './errors.js';
import { EventHub } from './events.js';
import type { Disposable, ListenerErrorHandler, QmpEvents } from './events.js';
import { encodeCommand, MAX_LINE_BYTES, parseMessage } from './protocol.js';
import type { QmpGreeting, QmpMessage, QmpVersion } from './protocol.js';
import { connectUnixSocket } from './transport.js';
import type { QmpTransport } from './transport.js';

export type QmpState = 'idle' | 'connecting' | 'running' | 'disconnecting' | 'closed';

export interface QmpClientOptions {
  /** Default per-command timeout (30 s). `Infinity` waits forever. */
  commandTimeoutMs?: number;
  /** Longest line accepted from the transport, in characters (16 Mi). The unix-socket transport
   * also enforces it in bytes before buffering. */
  maxLineLength?: number;
  /** Where exceptions thrown by event and close listeners go (default: console.error). */
  onListenerError?: ListenerErrorHandler;
}

export interface HandshakeOptions {
  /** Bound on greeting + qmp_capabilities (default 10 s). */
  timeoutMs?: number;
  /** Names the peer in ConnectError messages (the socket path when connecting by path). */
  peer?: string;
}

export interface QmpConnectOptions extends QmpClientOptions {
  /** Bound on the whole connect: socket, greeting and qmp_capabilities (default 10 s). */
  connectTimeoutMs?: number;
}

export interface ConnectRetryOptions extends QmpConnectOptions {
  /** Give up after this long (measured from the call). */
  deadlineMs: number;
  /** First pause between attempts (default 5 ms); it doubles up to 100 ms. */
  intervalMs?: number;
  /** Stops retrying, e.g. when the QEMU being waited for has exited. */
  signal?: AbortSignal;
}

export interface ExecuteOptions {
  /** Overrides the client's default command timeout. `Infinity` waits forever. */
  timeoutMs?: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** setTimeout fires at once for delays beyond 2^31-1 ms; longer waits are clamped to that. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class QmpClient {
  #state: QmpState = 'idle';
  #transport: QmpTransport | undefined;
  #transportClosed = false;
  #peer = 'QMP peer';
  #greeting: QmpGreeting | undefined;
  #greetingWaiter: { resolve: (greeting: QmpGreeting) => void; reject: (error: Error) => void } | undefined;
  #nextId = 0;
  readonly #pending = new Map<string, Pending>();
  /** Ids whose command timed out: their late replies are dropped, not treated as unknown. */
  readonly #abandoned = new Set<string>();
  readonly #hub: EventHub;
  readonly #commandTimeoutMs: number;
  readonly #maxLineLength: number;
  #closeReason: CloseReason | undefined;
  readonly #closeListeners = new Set<(reason: CloseReason) => void>();
  #resolveClosed!: (reason: CloseReason) => void;

  /** Resolves (never rejects) with the reason once the connection is gone. */
  readonly closed: Promise<CloseReason>;

  constructor(opts: QmpClientOptions = {}) {
    this.#commandTimeoutMs = checkTimeout(opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, 'commandTimeoutMs');
    this.#maxLineLength = opts.maxLineLength ?? MAX_LINE_BYTES;
    this.#hub = new EventHub(opts.onListenerError);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Connects to QEMU's QMP unix socket and completes the handshake. Rejects with ConnectError. */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = checkTimeout(opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
    const started = performance.now();
    const transport = await connectUnixSocket(path, {
      timeoutMs: Math.min(timeoutMs, MAX_TIMER_MS),
      maxLineBytes: opts.maxLineLength ?? MAX_LINE_BYTES,
    });
    const client = new QmpClient(opts);
    await client.connect(transport, {
      timeoutMs: Math.max(1, timeoutMs - (performance.now() - started)),
      peer: `QMP socket ${path}`,
    });
    return client;
  }

  /** See connectWithRetry below: connect to a socket that a just-spawned QEMU is still creating. */
  static connectWithRetry(path: string, opts: ConnectRetryOptions): Promise<QmpClient> {
    return connectWithRetry(path, opts);
  }

  get state(): QmpState {
    return this.#state;
  }

  /** QEMU's version from the greeting. Throws StateError before the greeting has arrived. */
  get version(): QmpVersion {
    if (this.#greeting === undefined) {
      throw new StateError(this.#state, `QEMU's version is not known before its QMP greeting (state: ${this.#state})`);
    }
    return { ...this.#greeting.version.qemu };
  }

  /** The whole greeting (version, package string, offered capabilities), once received. */
  get greeting(): QmpGreeting | undefined {
    return this.#greeting;
  }

  get events(): QmpEvents {
    return this.#hub;
  }

  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /**
   * Takes over `transport`, waits for QEMU's greeting and negotiates capabilities (none are
   * enabled: no out-of-band execution, so QEMU answers in order; we still match replies by id).
   * Allowed only in state idle. On failure the transport is closed and the client ends closed.
   */
  async connect(transport: QmpTransport, opts: HandshakeOptions = {}): Promise<void> {
    if (this.#state !== 'idle') {
      throw new StateError(this.#state, `connect() needs a fresh QmpClient (this one is ${this.#state})`);
    }
    const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'timeoutMs');
    this.#peer = opts.peer ?? this.#peer;
    this.#state = 'connecting';
    this.#transport = transport;
    const greeting = new Promise<QmpGreeting>((resolve, reject) => (this.#greetingWaiter = { resolve, reject }));
    transport.onLine((line) => this.#onLine(line));
    transport.onClose((error) => this.#onTransportClose(error));

    const peer = this.#peer;
    const timer = setTimeout(() => {
      this.#teardown({
        kind: 'handshake',
        error: new ConnectError(
          peer,
          'timeout',
          `${peer} did not complete the QMP handshake within ${timeoutMs} ms: QEMU serves one QMP ` +
            `client per socket, is another client (another Dom0 engine?) connected?`,
        ),
      });
    }, Math.min(timeoutMs, MAX_TIMER_MS));
    try {
      this.#greeting = await greeting;
      await this.#send('qmp_capabilities', undefined, Infinity);
      // close() or EOF may have come between the reply and this continuation.
      if (this.#closeReason !== undefined) throw new DisconnectedError(this.#closeReason);
      this.#state = 'running';
    } catch (error) {
      const failure = this.#handshakeFailure(error);
      this.#teardown({ kind: 'handshake', error: failure });
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs one QMP command and resolves with its `return` value (typed by the caller, not checked).
   * Rejects with StateError unless running, ExecuteError if QEMU reports failure,
   * ExecTimeoutError after the timeout, DisconnectedError if the connection ends first.
   */
  async execute<T = unknown>(command: string, args?: object, opts: ExecuteOptions = {}): Promise<T> {
    if (this.#state !== 'running') {
      throw new StateError(this.#state, `QMP command '${command}' refused: the connection is ${this.#state}, not running`);
    }
    const timeoutMs = checkTimeout(opts.timeoutMs ?? this.#commandTimeoutMs, 'timeoutMs');
    return (await this.#send(command, args, timeoutMs)) as T;
  }

  /** Calls `listener` once when the connection ends (at once, asynchronously, if it has). */
  onClose(listener: (reason: CloseReason) => void): Disposable {
    const reason = this.#closeReason;
    if (this.#state === 'closed' && reason !== undefined) {
      let disposed = false;
      queueMicrotask(() => {
        if (!disposed) this.#callCloseListener(listener, reason);
      });
      return { dispose: () => (disposed = true) };
    }
    // Wrapped so the same function registered twice is called twice and disposed separately.
    const entry = (r: CloseReason) => listener(r);
    this.#closeListeners.add(entry);
    return { dispose: () => this.#closeListeners.delete(entry) };
  }

  /**
   * Drops the connection (QEMU keeps running: this is not `quit`). Pending commands fail with
   * DisconnectedError. Resolves once the socket is gone. Idempotent.
   */
  async close(): Promise<void> {
    this.#teardown({ kind: 'local' });
    await this.closed;
  }

  #send(command: string, args: object | undefined, timeoutMs: number): Promise<unknown> {
    if (typeof command !== 'string' || command === '') {
      return Promise.reject(new TypeError('a QMP command name must be a non-empty string'));
    }
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      return Promise.reject(new TypeError(`QMP arguments of '${command}' must be an object`));
    }
    const id = `dom0-${++this.#nextId}`;
    let line: string;
    try {
      line = encodeCommand(id, command, args);
    } catch (error) {
      return Promise.reject(error);
    }
    const transport = this.#transport;
    if (transport === undefined) return Promise.reject(new StateError(this.#state, 'no QMP transport'));

    return new Promise((resolve, reject) => {
      const pending: Pending = { command, resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        pending.timer = setTimeout(() => {
          this.#pending.delete(id);
          this.#abandoned.add(id);
          reject(new ExecTimeoutError(command, timeoutMs));
        }, Math.min(timeoutMs, MAX_TIMER_MS));
      }
      this.#pending.set(id, pending);
      try {
        transport.write(line);
      } catch (error) {
        // A transport that cannot write is a connection that is gone; teardown fails this command
        // along with the others.
        this.#teardown({ kind: 'remote', error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }

  #onLine(line: string): void {
    if (this.#closeReason !== undefined) return;
    try {
      if (line.length > this.#maxLineLength) {
        throw new ProtocolError('line-too-long', `QEMU sent a line of ${line.length} characters, over the ${this.#maxLineLength} cap`);
      }
      this.#handle(parseMessage(line), line);
    } catch (error) {
      if (error instanceof ProtocolError) this.#teardown({ kind: 'protocol', error });
      else throw error;
    }
  }

  #handle(message: QmpMessage, line: string): void {
    if (message.type === 'greeting') {
      const waiter = this.#greetingWaiter;
      if (waiter === undefined) throw new ProtocolError('unexpected-greeting', 'QEMU sent a second QMP greeting', line);
      this.#greetingWaiter = undefined;
      waiter.resolve(message.greeting);
      return;
    }
    if (this.#greetingWaiter !== undefined) {
      throw new ProtocolError('invalid-message', 'QEMU did not start with a QMP greeting', line);
    }
    if (message.type === 'event') {
      this.#hub.dispatch(message.event);
      return;
    }
    const id = message.id;
    const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
    if (pending === undefined) {
      if (typeof id === 'string' && this.#abandoned.delete(id)) return;
      if (message.type === 'error' && id === undefined) {
        throw new ProtocolError('server-parse-error', `QEMU could not parse a request: ${message.desc}`, line);
      }
      throw new ProtocolError('unknown-id', 'QEMU replied to an id Dom0 never sent', line);
    }
    this.#pending.delete(id as string);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (message.type === 'return') pending.resolve(message.value);
    else pending.reject(new ExecuteError(pending.command, message.errorClass, message.desc));
  }

  #onTransportClose(error: Error | undefined): void {
    this.#transportClosed = true;
    this.#teardown(error instanceof ProtocolError ? { kind: 'protocol', error } : { kind: 'remote', error });
    this.#finish();
  }

  /** First call wins: records why, fails everything pending, closes the transport. The state
   * reaches closed when the transport reports the socket gone. */
  #teardown(reason: CloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#state = 'disconnecting';

    this.#greetingWaiter?.reject(new DisconnectedError(reason));
    this.#greetingWaiter = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#abandoned.clear();
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(new DisconnectedError(reason, p.command));
    }
    this.#hub.close(reason);

    if (this.#transport === undefined || this.#transportClosed) {
      this.#finish();
      return;
    }
    try {
      this.#transport.close();
    } catch {
      // Nothing more can be done for a transport that fails to close; its onClose still ends us.
    }
  }

  #finish(): void {
    const reason = this.#closeReason;
    if (this.#state === 'closed' || reason === undefined) return;
    this.#state = 'closed';
    this.#resolveClosed(reason);
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const listener of listeners) this.#callCloseListener(listener, reason);
  }

  #callCloseListener(listener: (reason: CloseReason) => void, reason: CloseReason): void {
    try {
      listener(reason);
    } catch (error) {
      this.#hub.reportListenerError(error, undefined);
    }
  }

  /** Turns whatever ended the handshake into the ConnectError the caller of connect() gets. */
  #handshakeFailure(error: unknown): ConnectError {
    const peer = this.#peer;
    if (error instanceof ConnectError) return error;
    if (error instanceof ExecuteError) {
      return new ConnectError(peer, 'negotiation-failed', `QEMU at ${peer} refused qmp_capabilities: ${error.desc}`, {
        cause: error,
      });
    }
    const reason = this.#closeReason;
    switch (reason?.kind) {
      case 'handshake':
        return reason.error;
      case 'local':
        return new ConnectError(peer, 'aborted', `connecting to ${peer} was abandoned: close() was called`);
      case 'protocol':
        return new ConnectError(
          peer,
          'bad-greeting',
          `${peer} did not answer with QMP (${reason.error.message}): is it the serial or VNC socket?`,
          { cause: reason.error },
        );
      case 'remote':
        return new ConnectError(
          peer,
          'closed',
          `${peer} closed the connection during the QMP handshake: did the domain's QEMU exit?`,
          { cause: reason.error },
        );
      default:
        return new ConnectError(peer, 'other', `QMP handshake with ${peer} failed: ${String(error)}`, { cause: error });
    }
  }
}

/**
 * Connects to a QMP socket that may not exist yet: a QEMU spawned a moment ago creates its socket
 * a few ms after it starts. Retries while the failure is retryable (socket missing or refused)
 * until `deadlineMs` has passed; other failures reject at once. On giving up, rejects with the
 * last ConnectError. Pass `signal` to stop early, e.g. when the spawned QEMU exits.
 */
export async function connectWithRetry(path: string, opts: ConnectRetryOptions): Promise<QmpClient> {
  const { deadlineMs, signal } = opts;
  const deadline = performance.now() + checkTimeout(deadlineMs, 'deadlineMs');
  let pause = opts.intervalMs ?? 5;
  for (;;) {
    if (signal?.aborted) {
      throw new ConnectError(path, 'aborted', `connecting to QMP socket ${path} was abandoned`, { cause: signal.reason });
    }
    const remaining = Math.max(1, deadline - performance.now());
    try {
      return await QmpClient.connect(path, {
        ...opts,
        connectTimeoutMs: Math.min(opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, remaining),
      });
    } catch (error) {
      if (!(error instanceof ConnectError) || !error.retryable) throw error;
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new ConnectError(path, error.kind, `${error.message} (still failing after ${deadlineMs} ms of retries)`, {
          cause: error,
        });
      }
      await sleep(Math.min(pause, left), signal);
      pause = Math.min(pause * 2, 100);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function checkTimeout(ms: number, name: string): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds (or Infinity), got ${ms}`);
  }
  return ms;
}
