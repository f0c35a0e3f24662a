// Every error the QMP client throws, one class per failure a caller can act on. The tree (after
// QEMU's python/qemu/qmp/error.py):
//
//   QmpError                 base: `err instanceof QmpError` means "came from the QMP client"
//   ├── ConnectError         no usable connection was made: socket missing / refused / not ours,
//   │                        no greeting, a greeting that is not QMP, qmp_capabilities refused.
//   │                        `kind` says which; `retryable` is true while QEMU may still be starting.
//   ├── StateError           call not allowed in the client's current state (execute before
//   │                        connect or after close, connect twice).
//   ├── DisconnectedError    the connection ended while a command or waitFor was pending;
//   │                        `reason` says who ended it (QEMU, us, or a protocol violation).
//   ├── ExecTimeoutError     no reply within the command's timeout; the connection stays up and
//   │                        the late reply, if any, is dropped.
//   ├── EventTimeoutError    waitFor saw no matching event in time.
//   ├── ExecuteError         QEMU answered {"error": {"class", "desc"}}: the command ran and failed.
//   └── ProtocolError        QEMU sent something that is not QMP (bad JSON, unknown shape, reply to
//                            an id we never issued, a line over the size cap). Always fatal: once
//                            the stream is not what we expect, later replies cannot be trusted to
//                            match their commands, so the client drops the connection.

/** Why a QMP connection ended. Given to onClose listeners, `closed`, and DisconnectedError. */
export type CloseReason =
  /** `close()` was called (or the handshake was abandoned by the caller). */
  | { kind: 'local' }
  /** QEMU closed the socket: it quit, crashed or was killed. `error` is a socket error such as
   * ECONNRESET when the close was not clean (QEMU exiting with unread input gives that). */
  | { kind: 'remote'; error?: Error }
  /** QEMU sent something that is not QMP; we dropped the connection. */
  | { kind: 'protocol'; error: ProtocolError }
  /** The greeting / capabilities handshake failed. */
  | { kind: 'handshake'; error: ConnectError };

export class QmpError extends Error {
  override name = 'QmpError';
}

export type ConnectFailure =
  /** The socket file does not exist (QEMU not started yet, or gone). */
  | 'missing'
  /** The socket file exists but nobody listens (stale socket of a dead QEMU, or not bound yet). */
  | 'refused'
  /** Permission denied on the socket. */
  | 'denied'
  /** The path does not fit in a unix socket address. */
  | 'path-too-long'
  /** No connection or no complete handshake within the timeout. */
  | 'timeout'
  /** The peer did not greet with a QMP greeting. */
  | 'bad-greeting'
  /** QEMU refused qmp_capabilities. */
  | 'negotiation-failed'
  /** The peer closed the socket during the handshake. */
  | 'closed'
  /** The caller gave up (close() or an AbortSignal) during the connect. */
  | 'aborted'
  | 'other';

export class ConnectError extends QmpError {
  override name = 'ConnectError';
  /** The socket path (or the transport's label when connecting over a given transport). */
  readonly path: string;
  readonly kind: ConnectFailure;

  constructor(path: string, kind: ConnectFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
    this.kind = kind;
  }

  /** True when the same connect may succeed shortly: QEMU creates and binds its socket a few ms
   * after it starts, so a fresh domain gives 'missing' or 'refused' for a moment. */
  get retryable(): boolean {
    return this.kind === 'missing' || this.kind === 'refused';
  }
}

export class StateError extends QmpError {
  override name = 'StateError';
  /** The client state the call was refused in. */
  readonly state: string;

  constructor(state: string, message: string) {
    super(message);
    this.state = state;
  }
}

export class DisconnectedError extends QmpError {
  override name = 'DisconnectedError';
  readonly reason: CloseReason;
  /** The command that was waiting for its reply, if the error stands for one. */
  readonly command: string | undefined;

  constructor(reason: CloseReason, command?: string) {
    const what = command === undefined ? '' : ` before replying to '${command}'`;
    const message =
      reason.kind === 'remote'
        ? `QEMU closed the QMP connection${what} (the domain's QEMU exited?)`
        : reason.kind === 'local'
          ? `the QMP connection was closed by Dom0${what}`
          : reason.kind === 'protocol'
            ? `the QMP connection was dropped${what} because QEMU sent something that is not QMP: ${reason.error.message}`
            : `the QMP handshake failed${what}: ${reason.error.message}`;
    super(message, 'error' in reason && reason.error !== undefined ? { cause: reason.error } : undefined);
    this.reason = reason;
    this.command = command;
  }
}

export class ExecTimeoutError extends QmpError {
  override name = 'ExecTimeoutError';
  readonly command: string;
  readonly timeoutMs: number;

  constructor(command: string, timeoutMs: number) {
    super(
      `QMP command '${command}' got no reply within ${timeoutMs} ms: QEMU may be stopped (SIGSTOP) or ` +
        `stuck; the connection stays open, so retry or destroy the domain`,
    );
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

export class EventTimeoutError extends QmpError {
  override name = 'EventTimeoutError';
  readonly event: string;
  readonly timeoutMs: number;

  constructor(event: string, timeoutMs: number) {
    super(`no QMP event '${event}' arrived within ${timeoutMs} ms`);
    this.event = event;
    this.timeoutMs = timeoutMs;
  }
}

export class ExecuteError extends QmpError {
  override name = 'ExecuteError';
  /** The command that failed. Its arguments are deliberately not kept: some carry secrets
   * (set_password, object-add secret) and errors end up in logs. */
  readonly command: string;
  /** QEMU's error class: 'GenericError', 'CommandNotFound', 'DeviceNotFound', ... */
  readonly errorClass: string;
  /** QEMU's human-readable description. */
  readonly desc: string;

  constructor(command: string, errorClass: string, desc: string) {
    super(`QMP command '${command}' failed: ${desc}`);
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

export type ProtocolFailure =
  /** A line that is not JSON. */
  | 'malformed-json'
  /** JSON that is not an object, or an object of no QMP shape we know. */
  | 'unrecognised'
  /** A greeting, reply or event with a field missing or of the wrong type. */
  | 'invalid-message'
  /** A greeting after the handshake. */
  | 'unexpected-greeting'
  /** A reply whose id we never issued. */
  | 'unknown-id'
  /** An error without an id: QEMU could not parse what we sent (we only send JSON.stringify
   * output, so this means the stream is out of step). */
  | 'server-parse-error'
  /** A line over the size cap. */
  | 'line-too-long';

export class ProtocolError extends QmpError {
  override name = 'ProtocolError';
  readonly kind: ProtocolFailure;
  /** The start of the offending line, for logs (never the whole thing: it may be 16 MiB). */
  readonly excerpt: string | undefined;

  constructor(kind: ProtocolFailure, message: string, excerpt?: string) {
    super(excerpt === undefined ? message : `${message}: ${excerptOf(excerpt)}`);
    this.kind = kind;
    this.excerpt = excerpt === undefined ? undefined : excerptOf(excerpt);
  }
}

function excerptOf(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
