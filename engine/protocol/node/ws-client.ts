// Client side of the WebSocket transport for Node: remote engines and CLIs talking to another
// host. The token goes in the Authorization header, so a wrong one is refused before the
// connection opens (ConnectError 'unauthenticated').

import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, createWebSocketStream } from 'ws';
import type { ClientOptions } from '../common/client.js';
import { ProtocolClient } from '../common/client.js';
import type { EmptyTable, EventTable, MethodTable, StreamTable } from '../common/define.js';
import { ConnectError, ProtocolError, RemoteError } from '../common/errors.js';
import { parseStreamAck } from '../common/messages.js';
import { HeldTransport } from '../common/transport.js';

export interface WebSocketConnectOptions<E extends EventTable, S extends StreamTable>
  extends Omit<ClientOptions<E, S, Duplex>, 'connectStream' | 'target'> {
  /** Bound on connecting (and, for streams, on the server's answer): 10 s. */
  connectTimeoutMs?: number;
  /** Largest message accepted from the server (64 MiB). */
  maxMessageBytes?: number;
  /** Sent as the Origin header (only needed to test the server's Origin rule). */
  origin?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_CLIENT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Stream writes are sent as frames of at most this size: the server caps one frame's size. */
const MAX_STREAM_FRAME_BYTES = 256 * 1024;

export async function connectWebSocket<
  M extends MethodTable,
  E extends EventTable = EmptyTable,
  S extends StreamTable = EmptyTable,
>(url: string, token: string, methods: M, opts: WebSocketConnectOptions<E, S> = {}): Promise<ProtocolClient<M, E, S, Duplex>> {
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const ws = await openSocket(url, token, timeoutMs, opts.maxMessageBytes ?? DEFAULT_CLIENT_MAX_MESSAGE_BYTES, opts.origin);
  return new ProtocolClient<M, E, S, Duplex>(new NodeWsTransport(ws), methods, {
    ...opts,
    target: redact(url),
    connectStream: (kind, params) => openWebSocketStream(url, token, kind, params, { timeoutMs, origin: opts.origin }),
  });
}

/**
 * Opens a stream channel on a new WebSocket: sends {stream, params}, waits for {ok: true}, and
 * resolves with a Duplex over the socket's binary frames (backpressure both ways). Rejects with
 * RemoteError when the server refuses, ConnectError when it cannot be reached.
 */
export async function openWebSocketStream(
  url: string,
  token: string,
  kind: string,
  params: unknown,
  opts: { timeoutMs?: number; origin?: string } = {},
): Promise<Duplex> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const ws = await openSocket(url, token, timeoutMs, DEFAULT_CLIENT_MAX_MESSAGE_BYTES, opts.origin);
  const target = redact(url);
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      ws.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new ConnectError(target, 'timeout', `${target} did not open stream '${kind}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const ack = isBinary ? undefined : parseStreamAck(data.toString('utf8'));
      if (ack === undefined) {
        return fail(new ProtocolError('invalid-message', `${target} answered the stream open with something unexpected`));
      }
      if (!ack.ok) return fail(new RemoteError(ack.error.code, ack.error.message, ack.error.data, `stream ${kind}`));
      cleanup();
      // Created inside this handler, so the frame right after the ack already goes to it.
      resolve(chunkedWrites(createWebSocketStream(ws)));
    };
    const onClose = () => fail(new ConnectError(target, 'closed', `${target} closed the stream connection before answering`));
    const cleanup = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    ws.send(JSON.stringify(params === undefined ? { stream: kind } : { stream: kind, params }));
  });
}

/** Splits large writes into frames the server accepts; each piece still waits for the socket. */
function chunkedWrites(duplex: Duplex): Duplex {
  const write = duplex._write.bind(duplex);
  duplex._write = (chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void) => {
    if (!Buffer.isBuffer(chunk) || chunk.length <= MAX_STREAM_FRAME_BYTES) return write(chunk, encoding, callback);
    let offset = 0;
    const next = (error?: Error | null) => {
      if (error || offset >= chunk.length) return callback(error);
      const piece = chunk.subarray(offset, offset + MAX_STREAM_FRAME_BYTES);
      offset += piece.length;
      write(piece, encoding, next);
    };
    next();
  };
  return duplex;
}

function openSocket(url: string, token: string, timeoutMs: number, maxPayload: number, origin: string | undefined): Promise<WebSocket> {
  const target = redact(url);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${token}` },
      maxPayload,
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      ...(origin === undefined ? {} : { origin }),
    });
    const fail = (error: ConnectError) => {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(error);
    };
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401) fail(new ConnectError(target, 'unauthenticated', `${target} refused the token (HTTP 401)`));
      else fail(new ConnectError(target, 'forbidden', `${target} refused the connection (HTTP ${status} ${res.statusMessage ?? ''})`));
    });
    ws.once('error', (error: NodeJS.ErrnoException) => {
      const kind = error.code === 'ECONNREFUSED' ? 'refused' : /timed out/i.test(error.message) ? 'timeout' : 'other';
      fail(new ConnectError(target, kind, `cannot connect to the engine at ${target}: ${error.message}`, { cause: error }));
    });
    ws.once('open', () => {
      ws.removeAllListeners();
      resolve(ws);
    });
  });
}

/** The URL for messages: never with a token in it. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.searchParams.has('token')) parsed.searchParams.set('token', '…');
    return parsed.toString();
  } catch {
    return url;
  }
}

class NodeWsTransport extends HeldTransport {
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    super();
    this.#ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.finish(new ProtocolError('invalid-message', 'the engine sent a binary frame on a request connection'));
        ws.terminate();
        return;
      }
      this.deliver(data.toString('utf8'));
    });
    let socketError: Error | undefined;
    ws.on('error', (error) => (socketError = error));
    ws.once('close', (code: number, reason: Buffer) => {
      const text = reason.toString('utf8');
      this.finish(socketError ?? (code === 1000 || code === 1005 ? undefined : new Error(`closed with code ${code}${text ? ` (${text})` : ''}`)));
    });
  }

  send(text: string): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  close(): void {
    this.#ws.close(1000);
    setTimeout(() => this.#ws.terminate(), 2000).unref();
  }
}
