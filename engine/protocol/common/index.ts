// Public API of the engine protocol that runs anywhere: schemas, message types, tables and the
// client core. The renderer imports this (and browser/); nothing here may import Node.

export { builtinMethods } from './builtins.js';
export type { BuiltinMethods } from './builtins.js';
export { ProtocolClient } from './client.js';
export type { CallArgs, CallOptions, ClientOptions, ClientState, Disposable, StreamConnector, TopicOf } from './client.js';
export { defineEvents, defineMethods, defineStreams, RESERVED_METHODS } from './define.js';
export type {
  ConnectionInfo,
  EmptyTable,
  EventDataInputOf,
  EventDataOf,
  EventName,
  EventSpec,
  EventTable,
  Handler,
  HandlerParamsOf,
  HandlerResultOf,
  Handlers,
  MethodName,
  MethodSpec,
  MethodTable,
  ParamsOf,
  RequestContext,
  ResultOf,
  StreamKind,
  StreamOpenerParamsOf,
  StreamParamsOf,
  StreamSpec,
  StreamTable,
} from './define.js';
export {
  CallTimeoutError,
  ConnectError,
  DisconnectedError,
  EngineClientError,
  ProtocolError,
  RemoteError,
  RpcError,
  StateError,
} from './errors.js';
export type { CloseReason, ConnectFailure, ProtocolFailure } from './errors.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  PROTOCOL_ERROR_CODES,
  authMessageSchema,
  authOkSchema,
  errorBodySchema,
  errorResponseSchema,
  eventMessageSchema,
  parseClientMessage,
  parseServerMessage,
  parseStreamAck,
  requestIdSchema,
  requestSchema,
  streamAckSchema,
  streamOpenSchema,
  successResponseSchema,
} from './messages.js';
export type { ClientMessage, ErrorBody, ProtocolErrorCode, Request, RequestId, ServerMessage, StreamAck } from './messages.js';
export { subscribeParamsSchema, subscribeResultSchema, topicMatches, topicSchema } from './topics.js';
export { authenticate, HeldTransport } from './transport.js';
export type { ClientTransport } from './transport.js';
