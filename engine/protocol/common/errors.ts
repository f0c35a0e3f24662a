// Every error the engine-protocol client throws, one class per failure a caller can act on:
//
//   EngineClientError          base: `err instanceof EngineClientError` means "came from the client"
//   ├── ConnectError           no usable connection: socket missing / refused / not ours, token
//   │                          refused, Origin refused, timed out. `kind` says which.
//   ├── StateError             the call is not allowed in the client's state (after close).
//   ├── DisconnectedError      the connection ended while a call was pending; `reason` says who
//   │                          ended it (the server, us, or a protocol violation).
//   ├── CallTimeoutError       no reply within the call's timeout; the connection stays up and a
//   │                          late reply is dropped.
//   ├── RemoteError            the server answered {error: {code, message}}: the method ran (or was
//   │                          refused) and failed. `code` is the engine's named error
//   │                          ('NoSuchDomain', 'InvalidParams', ...); `message` is for people, so a
//   │                          CLI prints `Error: ${err.message}`.
//   └── ProtocolError          the server sent something this client cannot accept: not JSON, an
//                              unknown shape, a reply to an id never issued (fatal: the stream is
//                              out of step, so the connection is dropped), or a result / event that
//                              does not match its schema (that call or event only: version skew).
//
// RpcError is the other direction: a handler may throw it to answer with a named code and data.

/** Why a connection ended. Given to onClose listeners, `closed`, and DisconnectedError. */
export type CloseReason =
  /** `close()` was called on this side. */
  | { kind: 'local' }
  /** The server closed the connection (or it broke). `error` is what the server said last
   * (e.g. a RemoteError 'Unauthenticated' or 'TooLarge') or the socket error, if any. */
  | { kind: 'remote'; error?: Error }
  /** The server sent something that is not this protocol; the client dropped the connection. */
  | { kind: 'protocol'; error: ProtocolError };

export class EngineClientError extends Error {
  override name = 'EngineClientError';
}

export type ConnectFailure =
  /** The socket file does not exist: no engine runs for this state directory. */
  | 'missing'
  /** Nothing listens on the socket or port (a stale socket of a dead engine). */
  | 'refused'
  /** Permission denied on the socket: it belongs to another user. */
  | 'denied'
  /** The path does not fit in a unix socket address. */
  | 'path-too-long'
  /** The token was missing or wrong. */
  | 'unauthenticated'
  /** The server refused the connection for another reason (Origin not allowed, wrong path). */
  | 'forbidden'
  /** No connection (or no handshake) within the timeout. */
  | 'timeout'
  /** The peer closed the connection during the handshake. */
  | 'closed'
  | 'other';

export class ConnectError extends EngineClientError {
  override name = 'ConnectError';
  /** The socket path or URL (never with a token in it). */
  readonly target: string;
  readonly kind: ConnectFailure;

  constructor(target: string, kind: ConnectFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.target = target;
    this.kind = kind;
  }
}

export class StateError extends EngineClientError {
  override name = 'StateError';
  readonly state: string;

  constructor(state: string, message: string) {
    super(message);
    this.state = state;
  }
}

export class DisconnectedError extends EngineClientError {
  override name = 'DisconnectedError';
  readonly reason: CloseReason;
  /** The method whose reply was pending, if the error stands for one call. */
  readonly method: string | undefined;

  constructor(reason: CloseReason, method?: string) {
    const what = method === undefined ? '' : ` before answering '${method}'`;
    const message =
      reason.kind === 'local'
        ? `the connection to the engine was closed by this client${what}`
        : reason.kind === 'protocol'
          ? `the connection to the engine was dropped${what} because it sent something unexpected: ${reason.error.message}`
          : `the engine closed the connection${what}${reason.error === undefined ? '' : `: ${reason.error.message}`}` +
            (reason.error === undefined ? ' (did xend stop or restart?)' : '');
    super(message, 'error' in reason && reason.error !== undefined ? { cause: reason.error } : undefined);
    this.reason = reason;
    this.method = method;
  }
}

export class CallTimeoutError extends EngineClientError {
  override name = 'CallTimeoutError';
  readonly method: string;
  readonly timeoutMs: number;

  constructor(method: string, timeoutMs: number) {
    super(
      `the engine did not answer '${method}' within ${timeoutMs} ms: it may be busy or stuck; ` +
        `the call may still complete, so check the state before retrying`,
    );
    this.method = method;
    this.timeoutMs = timeoutMs;
  }
}

export class RemoteError extends EngineClientError {
  override name = 'RemoteError';
  /** The server's error code: a protocol code (ProtocolErrorCode) or the engine's named error. */
  readonly code: string;
  readonly data: unknown;
  /** The method called, or undefined for a connection-level error (auth, size, parse). */
  readonly method: string | undefined;

  constructor(code: string, message: string, data?: unknown, method?: string) {
    super(message);
    this.code = code;
    this.data = data;
    this.method = method;
  }
}

export type ProtocolFailure =
  /** A message that is not JSON. */
  | 'malformed-json'
  /** JSON of no shape this protocol knows, or a known shape with a field missing / mistyped. */
  | 'invalid-message'
  /** A reply whose id this client never issued. */
  | 'unknown-id'
  /** A result that does not match the method's result schema. */
  | 'invalid-result'
  /** An event that is not in the event table, or whose data does not match its schema. */
  | 'invalid-event'
  /** A message over the client's size cap. */
  | 'too-large';

export class ProtocolError extends EngineClientError {
  override name = 'ProtocolError';
  readonly kind: ProtocolFailure;
  /** The start of the offending message, for logs (never the whole: it may be megabytes). */
  readonly excerpt: string | undefined;

  constructor(kind: ProtocolFailure, message: string, excerpt?: string) {
    super(excerpt === undefined ? message : `${message}: ${excerptOf(excerpt)}`);
    this.kind = kind;
    this.excerpt = excerpt === undefined ? undefined : excerptOf(excerpt);
  }
}

/**
 * Thrown by a handler (or a stream opener) to answer with a chosen code: the server passes
 * `code`, `message` and `data` through. Any error with a string `code` property is passed through
 * the same way (the engine's DomainError, say), so rooms need not know this class.
 */
export class RpcError extends Error {
  override name = 'RpcError';
  readonly code: string;
  readonly data: unknown;

  constructor(code: string, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export function excerptOf(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
