// Public API of the QMP client. Other engine rooms import from here only.

export { QmpClient, connectWithRetry } from './client.js';
export type {
  ConnectRetryOptions,
  ExecuteOptions,
  HandshakeOptions,
  QmpClientOptions,
  QmpConnectOptions,
  QmpState,
} from './client.js';
export {
  ConnectError,
  DisconnectedError,
  EventTimeoutError,
  ExecTimeoutError,
  ExecuteError,
  ProtocolError,
  QmpError,
  StateError,
} from './errors.js';
export type { CloseReason, ConnectFailure, ProtocolFailure } from './errors.js';
export type { Disposable, ListenerErrorHandler, QmpEvents, WaitForOptions } from './events.js';
export { MAX_LINE_BYTES } from './protocol.js';
export type { QmpEvent, QmpEventMap, QmpEventOf, QmpGreeting, QmpTimestamp, QmpVersion } from './protocol.js';
export { connectUnixSocket, LineSplitter } from './transport.js';
export type { QmpTransport, UnixSocketOptions } from './transport.js';
