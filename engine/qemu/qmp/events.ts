// QMP events fanned out to listeners. The client owns an EventHub (it dispatches and closes);
// callers only see its QmpEvents face (on / waitFor), so nothing outside the client can inject
// events or end the stream.

import { DisconnectedError, EventTimeoutError } from './errors.js';
import type { CloseReason } from './errors.js';
import type { QmpEvent, QmpEventOf } from './protocol.js';

export interface Disposable {
  dispose(): void;
}

export interface WaitForOptions<E> {
  /** Only an event for which this returns true settles the wait. If it throws, the wait rejects
   * with what it threw. */
  predicate?: (event: E) => boolean;
  /** Rejects with EventTimeoutError after this long; no limit when absent. */
  timeoutMs?: number;
  /** Rejects with the signal's reason when aborted. */
  signal?: AbortSignal;
}

export interface QmpEvents {
  /**
   * Calls `handler` for each event named `name` ('*' for every event), in arrival order, until
   * disposed. A handler that throws is reported to the client's `onListenerError` and does not
   * stop the other handlers or the client.
   */
  on<K extends string>(name: K, handler: (event: QmpEventOf<K>) => void): Disposable;
  /**
   * The next event named `name` ('*' for any) that passes the predicate. Rejects with
   * DisconnectedError if the connection ends first (at once if it has ended already).
   * Call it BEFORE sending the command that causes the event: QEMU may send the event ahead of
   * the command's reply, so waiting after `await execute(...)` can miss it.
   */
  waitFor<K extends string>(name: K, opts?: WaitForOptions<QmpEventOf<K>>): Promise<QmpEventOf<K>>;
}

export type ListenerErrorHandler = (error: unknown, event: QmpEvent | undefined) => void;

/** Without a handler, a throwing listener is logged: it is a bug in Dom0, but one listener must
 * not take the connection (and the domain's lifecycle tracking) down with it. */
export const logListenerError: ListenerErrorHandler = (error, event) => {
  console.error(`QMP listener for ${event === undefined ? 'close' : `event '${event.event}'`} threw:`, error);
};

type Handler = (event: QmpEvent) => void;

export class EventHub implements QmpEvents {
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #waiters = new Set<(reason: CloseReason) => void>();
  readonly #onListenerError: ListenerErrorHandler;
  #closeReason: CloseReason | undefined;

  constructor(onListenerError: ListenerErrorHandler = logListenerError) {
    this.#onListenerError = onListenerError;
  }

  on<K extends string>(name: K, handler: (event: QmpEventOf<K>) => void): Disposable {
    // Registering the same function twice gives two entries, so each Disposable removes its own.
    if (this.#closeReason !== undefined) return { dispose: () => {} };
    const entry: Handler = (event) => handler(event as QmpEventOf<K>);
    let set = this.#handlers.get(name);
    if (set === undefined) this.#handlers.set(name, (set = new Set()));
    set.add(entry);
    return {
      dispose: () => {
        set.delete(entry);
        if (set.size === 0 && this.#handlers.get(name) === set) this.#handlers.delete(name);
      },
    };
  }

  waitFor<K extends string>(name: K, opts: WaitForOptions<QmpEventOf<K>> = {}): Promise<QmpEventOf<K>> {
    const { predicate, timeoutMs, signal } = opts;
    if (this.#closeReason !== undefined) return Promise.reject(new DisconnectedError(this.#closeReason));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => settle(() => reject(signal?.reason));
      const onClose = (reason: CloseReason) => settle(() => reject(new DisconnectedError(reason)));
      const listener = this.on(name, (event) => {
        let matches: boolean;
        try {
          matches = predicate === undefined || predicate(event);
        } catch (error) {
          settle(() => reject(error));
          return;
        }
        if (matches) settle(() => resolve(event));
      });
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        listener.dispose();
        this.#waiters.delete(onClose);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      this.#waiters.add(onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => settle(() => reject(new EventTimeoutError(name, timeoutMs))), timeoutMs);
      }
    });
  }

  /** Delivers one event to the handlers registered for its name, then to the '*' handlers. */
  dispatch(event: QmpEvent): void {
    if (this.#closeReason !== undefined) return;
    // Copies, so a handler that disposes itself or adds another does not disturb this round.
    const named = [...(this.#handlers.get(event.event) ?? [])];
    const any = event.event === '*' ? [] : [...(this.#handlers.get('*') ?? [])];
    for (const handler of [...named, ...any]) {
      // A handler may end the connection (close() on SHUTDOWN): the rest then hear nothing.
      if (this.#closeReason !== undefined) return;
      try {
        handler(event);
      } catch (error) {
        this.reportListenerError(error, event);
      }
    }
  }

  /** Ends the stream: pending waits reject with DisconnectedError, handlers are dropped. */
  close(reason: CloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#handlers.clear();
    for (const fail of [...this.#waiters]) fail(reason);
  }

  reportListenerError(error: unknown, event: QmpEvent | undefined): void {
    try {
      this.#onListenerError(error, event);
    } catch {
      // The error handler itself failed; nothing sensible is left to tell.
    }
  }
}
