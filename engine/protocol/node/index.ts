// Public API of the Node side of the engine protocol: the server, its listeners and the Node
// client transports.

export { bearerToken, isLoopbackHost, tokensEqual } from './auth.js';
export { ListenError } from './errors.js';
export type { ListenFailure } from './errors.js';
export { LineReader } from './framing.js';
export { consoleLogger, ProtocolServer } from './server.js';
export type {
  AcceptOptions,
  CloseWhy,
  ConnectionAcceptor,
  ProtocolLogger,
  ServerConnection,
  ServerLimits,
  ServerOptions,
  ServerTransport,
  StreamOpener,
  StreamOpeners,
  StreamPipe,
} from './server.js';
export { connectUnix, openUnixStream } from './unix-client.js';
export type { UnixConnectOptions } from './unix-client.js';
export { listenUnix, MAX_UNIX_PATH_BYTES } from './unix-server.js';
export type { UnixListener } from './unix-server.js';
export { connectWebSocket, openWebSocketStream } from './ws-client.js';
export type { WebSocketConnectOptions } from './ws-client.js';
export { generateToken, listenWebSocket } from './ws-server.js';
export type { WebSocketListener, WebSocketListenOptions } from './ws-server.js';
