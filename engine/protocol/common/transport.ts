// The message pipe under the client: whole JSON texts in and out, and one close signal. The
// client depends only on ClientTransport, so unit tests drive it with an object literal and each
// runtime brings its own: unix socket and `ws` in node/, the global WebSocket in browser/.

import { ConnectError } from './errors.js';
import { parseServerMessage } from './messages.js';

/**
 * Contract:
 * - `send(text)` sends one message (the transport frames it). Sends after the close are dropped.
 * - `onMessage` receives each message, in order. Setting it again replaces the callback (the
 *   auth handshake reads the first reply, then the client takes over).
 * - `onClose` fires exactly once, after the last message, whoever closed (also after `close()`),
 *   with the error that ended the connection, if one did.
 * - Messages or a close that come before a callback is set are held until it is set.
 */
export interface ClientTransport {
  send(text: string): void;
  onMessage(cb: (text: string) => void): void;
  onClose(cb: (error?: Error) => void): void;
  close(): void;
}

/** The holding and once-only rules of the contract, for transports to extend. */
export abstract class HeldTransport implements ClientTransport {
  #messageCb: ((text: string) => void) | undefined;
  #closeCb: ((error?: Error) => void) | undefined;
  readonly #held: string[] = [];
  #ended: { error: Error | undefined } | undefined;
  #closeDelivered = false;

  abstract send(text: string): void;
  abstract close(): void;

  onMessage(cb: (text: string) => void): void {
    this.#messageCb = cb;
    // The callback may replace itself (auth handshake → client) while draining: re-read it.
    while (this.#held.length > 0 && this.#messageCb === cb) {
      cb(this.#held.shift() as string);
    }
    this.#maybeDeliverClose();
  }

  onClose(cb: (error?: Error) => void): void {
    this.#closeCb = cb;
    this.#maybeDeliverClose();
  }

  /** Subclasses call this for each received message. */
  protected deliver(text: string): void {
    if (this.#ended !== undefined) return;
    if (this.#messageCb === undefined || this.#held.length > 0) this.#held.push(text);
    else this.#messageCb(text);
  }

  /** Subclasses call this once the connection is gone; later calls are ignored. */
  protected finish(error?: Error): void {
    if (this.#ended !== undefined) return;
    this.#ended = { error };
    this.#maybeDeliverClose();
  }

  protected get finished(): boolean {
    return this.#ended !== undefined;
  }

  #maybeDeliverClose(): void {
    // Held messages go first: the close must come after the last message.
    if (this.#ended === undefined || this.#closeDelivered || this.#closeCb === undefined || this.#held.length > 0) return;
    this.#closeDelivered = true;
    this.#closeCb(this.#ended.error);
  }
}

/**
 * First-message authentication, for transports that cannot carry a header (a browser WebSocket):
 * sends {auth: token} and waits for {auth: 'ok'}. Resolves with the transport to hand to the
 * client (it keeps whatever arrives between the answer and the client taking over). Rejects with
 * ConnectError 'unauthenticated' if the server refuses, 'closed' if it hangs up, 'timeout' after
 * `timeoutMs`; on failure the transport is closed.
 */
export function authenticate(transport: ClientTransport, token: string, target: string, timeoutMs: number): Promise<ClientTransport> {
  return new Promise((resolve, reject) => {
    const early: string[] = [];
    let earlyClose: { error: Error | undefined } | undefined;
    let settled = false;
    const fail = (error: ConnectError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      transport.close();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new ConnectError(target, 'timeout', `${target} did not answer the authentication within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const succeed = () => {
      settled = true;
      clearTimeout(timer);
      transport.onMessage((text) => early.push(text));
      transport.onClose((error) => (earlyClose = { error }));
      resolve({
        send: (text) => transport.send(text),
        close: () => transport.close(),
        onMessage(cb) {
          for (const text of early.splice(0)) cb(text);
          transport.onMessage(cb);
        },
        onClose(cb) {
          if (earlyClose !== undefined) cb(earlyClose.error);
          else transport.onClose(cb);
        },
      });
    };
    transport.onMessage((text) => {
      if (settled) return;
      const message = parseServerMessage(text);
      if (message.kind === 'auth-ok') return succeed();
      if (message.kind === 'error') {
        const kind = message.error.code === 'Unauthenticated' ? 'unauthenticated' : 'other';
        return fail(new ConnectError(target, kind, `${target} refused the connection: ${message.error.message}`));
      }
      fail(new ConnectError(target, 'other', `${target} answered the authentication with something unexpected`));
    });
    transport.onClose((error) =>
      fail(new ConnectError(target, 'closed', `${target} closed the connection during authentication`, { cause: error })),
    );
    transport.send(JSON.stringify({ auth: token }));
  });
}
