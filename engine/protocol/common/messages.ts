// The wire format: one JSON object per message (a line on the unix socket, a text frame on a
// WebSocket). Schemas for every kind, and the two classifiers that turn a received text into a
// typed message or a named reason why not.
//
//   client → server   request      {id, method, params?}
//                     auth         {auth: token}                 (WebSocket, browsers)
//                     stream open  {stream: kind, params?, token?}   first message of a stream
//                                                                    connection only
//   server → client   response     {id, result} | {id, error: {code, message, data?}}
//                                  (id null when the request's id could not be read)
//                     event        {event, data}
//                     auth ok      {auth: 'ok'}
//                     stream ack   {ok: true} | {ok: false, error}   then raw bytes both ways

import { z } from 'zod';

/** Error codes the protocol itself answers with. Handlers add their own (e.g. 'NoSuchDomain'). */
export const PROTOCOL_ERROR_CODES = [
  /** The message is not JSON. */
  'ParseError',
  /** JSON, but not a request (no id, no method, wrong types). */
  'InvalidRequest',
  /** No method (or stream kind) of that name. */
  'MethodNotFound',
  /** The params do not match the method's schema; the message names the field. */
  'InvalidParams',
  /** The connection has not authenticated, or the token is wrong. */
  'Unauthenticated',
  /** The message is over the size cap; the connection is closed after this error. */
  'TooLarge',
  /** A bug or an unexpected failure in the engine; the message says what. */
  'Internal',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** The largest message a server accepts by default (1 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export const requestIdSchema = z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().max(128)]);
export type RequestId = z.infer<typeof requestIdSchema>;

export const requestSchema = z.object({
  id: requestIdSchema,
  method: z.string().min(1).max(256),
  params: z.unknown().optional(),
});
export type Request = z.infer<typeof requestSchema>;

export const errorBodySchema = z.object({
  code: z.string().min(1).max(256),
  message: z.string(),
  data: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const successResponseSchema = z.object({ id: requestIdSchema, result: z.unknown() });
export const errorResponseSchema = z.object({ id: requestIdSchema.nullable(), error: errorBodySchema });
export const eventMessageSchema = z.object({ event: z.string().min(1).max(256), data: z.unknown() });
export const authMessageSchema = z.object({ auth: z.string().max(4096) });
export const authOkSchema = z.object({ auth: z.literal('ok') });
export const streamOpenSchema = z.object({
  stream: z.string().min(1).max(256),
  params: z.unknown().optional(),
  token: z.string().max(4096).optional(),
});
export const streamAckSchema = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: errorBodySchema }),
]);
export type StreamAck = z.infer<typeof streamAckSchema>;

/** What a server makes of one received message. */
export type ClientMessage =
  | { kind: 'request'; request: Request }
  | { kind: 'auth'; token: string }
  | { kind: 'stream'; stream: string; params: unknown; token: string | undefined }
  /** Not acceptable: answer `{id, error: {code, message}}` (id null when unknown). */
  | { kind: 'invalid'; id: RequestId | null; code: 'ParseError' | 'InvalidRequest'; message: string };

export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', id: null, code: 'ParseError', message: `the message is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', id: null, code: 'InvalidRequest', message: 'a message must be a JSON object' };
  }
  if ('method' in value || 'id' in value) {
    const parsed = requestSchema.safeParse(value);
    if (parsed.success) return { kind: 'request', request: parsed.data };
    // Echo a readable id so the caller's pending call fails instead of timing out.
    const id = requestIdSchema.safeParse((value as { id?: unknown }).id);
    return {
      kind: 'invalid',
      id: id.success ? id.data : null,
      code: 'InvalidRequest',
      message: `not a valid request: ${describeIssues(parsed.error.issues)}`,
    };
  }
  if ('auth' in value) {
    const parsed = authMessageSchema.safeParse(value);
    if (parsed.success) return { kind: 'auth', token: parsed.data.auth };
    return { kind: 'invalid', id: null, code: 'InvalidRequest', message: 'an auth message is {"auth": "<token>"}' };
  }
  if ('stream' in value) {
    const parsed = streamOpenSchema.safeParse(value);
    if (parsed.success) {
      return { kind: 'stream', stream: parsed.data.stream, params: parsed.data.params, token: parsed.data.token };
    }
    return {
      kind: 'invalid',
      id: null,
      code: 'InvalidRequest',
      message: `not a valid stream open: ${describeIssues(parsed.error.issues)}`,
    };
  }
  return {
    kind: 'invalid',
    id: null,
    code: 'InvalidRequest',
    message: 'unknown message: expected a request {"id", "method", "params"}',
  };
}

/** What a client makes of one received message. */
export type ServerMessage =
  | { kind: 'result'; id: RequestId; result: unknown }
  | { kind: 'error'; id: RequestId | null; error: ErrorBody }
  | { kind: 'event'; event: string; data: unknown }
  | { kind: 'auth-ok' }
  | { kind: 'invalid'; failure: 'malformed-json' | 'invalid-message'; message: string };

export function parseServerMessage(text: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', failure: 'malformed-json', message: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', failure: 'invalid-message', message: 'not a JSON object' };
  }
  if ('error' in value) {
    const parsed = errorResponseSchema.safeParse(value);
    if (parsed.success) return { kind: 'error', id: parsed.data.id, error: parsed.data.error };
    return { kind: 'invalid', failure: 'invalid-message', message: `malformed error reply (${describeIssues(parsed.error.issues)})` };
  }
  if ('result' in value) {
    const parsed = successResponseSchema.safeParse(value);
    if (parsed.success) return { kind: 'result', id: parsed.data.id, result: parsed.data.result };
    return { kind: 'invalid', failure: 'invalid-message', message: `malformed reply (${describeIssues(parsed.error.issues)})` };
  }
  if ('event' in value) {
    const parsed = eventMessageSchema.safeParse(value);
    if (parsed.success) return { kind: 'event', event: parsed.data.event, data: parsed.data.data };
    return { kind: 'invalid', failure: 'invalid-message', message: `malformed event (${describeIssues(parsed.error.issues)})` };
  }
  if (authOkSchema.safeParse(value).success) return { kind: 'auth-ok' };
  return { kind: 'invalid', failure: 'invalid-message', message: 'not a reply, an event or an auth answer' };
}

/** Parses the first message on a stream connection. */
export function parseStreamAck(text: string): StreamAck | undefined {
  try {
    const parsed = streamAckSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function encodeRequest(id: RequestId, method: string, params: unknown): string {
  return JSON.stringify(params === undefined ? { id, method } : { id, method, params });
}

export function encodeError(id: RequestId | null, error: ErrorBody): string {
  return JSON.stringify({ id, error });
}

/** `undefined` is not JSON: a void result travels as null (see define.ts). */
export function encodeResult(id: RequestId, result: unknown): string {
  return JSON.stringify({ id, result: result === undefined ? null : result });
}

/** Zod issues as one line that names each field: "name: expected string, received number". */
export function describeIssues(issues: readonly z.core.$ZodIssue[], max = 5): string {
  const shown = issues.slice(0, max).map((issue) => {
    const path = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `;
    return `${path}${issue.message}`;
  });
  const more = issues.length > max ? ` (and ${issues.length - max} more)` : '';
  return `${shown.join('; ')}${more}`;
}

/** The issues as data for error.data: what a form shows next to each field. */
export function issuesData(issues: readonly z.core.$ZodIssue[]): { issues: { path: (string | number)[]; message: string }[] } {
  return {
    issues: issues.slice(0, 50).map((issue) => ({
      path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: issue.message,
    })),
  };
}
