// The engine protocol from a browser page (the renderer, in Electron or in web mode): the common
// client over the global WebSocket. Browsers cannot set headers on a WebSocket, and a token in the
// URL ends up in logs and history, so the token goes in the first message.
//
// Kept thin on purpose: no Node imports, no Buffer. A stream channel is a WebSocket past its
// handshake, so noVNC (which takes any WebSocket-shaped channel) can be handed `stream.socket`.

import { ProtocolClient } from '../common/client.js';
import type { ClientOptions, Disposable } from '../common/client.js';
import type { EmptyTable, EventTable, MethodTable, StreamTable } from '../common/define.js';
import { ConnectError, ProtocolError, RemoteError } from '../common/errors.js';
import { parseStreamAck } from '../common/messages.js';
import { authenticate, HeldTransport } from '../common/transport.js';

/** The WebSocket class to use: the global one unless given (tests pass the `ws` package's). */
export type WebSocketConstructor = new (url: string) => WebSocket;

export interface BrowserConnectOptions<E extends EventTable, S extends StreamTable>
  extends Omit<ClientOptions<E, S, BrowserStream>, 'connectStream' | 'target'> {
  /** Bound on connecting and authenticating (and, for streams, on the server's answer): 10 s. */
  connectTimeoutMs?: number;
  WebSocket?: WebSocketConstructor;
}

/** A binary stream channel in the browser. */
export interface BrowserStream {
  /** The open WebSocket past the stream handshake: binary frames both ways. Attach a consumer
   * (noVNC) synchronously after openStream resolves, so it sees the first frame. */
  readonly socket: WebSocket;
  /** Bytes sent but not yet on the network: pause producing while this is high. */
  readonly bufferedAmount: number;
  send(bytes: Uint8Array | ArrayBuffer): void;
  /** Receives each frame's bytes; frames that came before the first onData are delivered to it. */
  onData(cb: (bytes: Uint8Array) => void): Disposable;
  onClose(cb: (info: { code: number; reason: string }) => void): Disposable;
  close(): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const OPEN = 1;

export async function connectBrowserWebSocket<
  M extends MethodTable,
  E extends EventTable = EmptyTable,
  S extends StreamTable = EmptyTable,
>(url: string, token: string, methods: M, opts: BrowserConnectOptions<E, S> = {}): Promise<ProtocolClient<M, E, S, BrowserStream>> {
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const Ctor = opts.WebSocket ?? globalThis.WebSocket;
  const socket = await openSocket(url, Ctor, timeoutMs);
  const transport = await authenticate(new BrowserWsTransport(socket), token, url, timeoutMs);
  return new ProtocolClient<M, E, S, BrowserStream>(transport, methods, {
    ...opts,
    target: url,
    connectStream: (kind, params) => openBrowserStream(url, token, kind, params, { timeoutMs, WebSocket: Ctor }),
  });
}

/** Opens a stream channel on a new WebSocket; resolves once the server accepted it. */
export async function openBrowserStream(
  url: string,
  token: string,
  kind: string,
  params: unknown,
  opts: { timeoutMs?: number; WebSocket?: WebSocketConstructor } = {},
): Promise<BrowserStream> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const socket = await openSocket(url, opts.WebSocket ?? globalThis.WebSocket, timeoutMs);
  socket.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      socket.close();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new ConnectError(url, 'timeout', `${url} did not open stream '${kind}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (event: MessageEvent) => {
      const ack = typeof event.data === 'string' ? parseStreamAck(event.data) : undefined;
      if (ack === undefined) return fail(new ProtocolError('invalid-message', `${url} answered the stream open with something unexpected`));
      if (!ack.ok) return fail(new RemoteError(ack.error.code, ack.error.message, ack.error.data, `stream ${kind}`));
      cleanup();
      // Created inside this handler, so the frame right after the ack already reaches it.
      resolve(new Stream(socket));
    };
    const onClose = () => fail(new ConnectError(url, 'closed', `${url} closed the stream connection before answering`));
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeEventListener('message', onMessage);
      socket.removeEventListener('close', onClose);
    };
    socket.addEventListener('message', onMessage);
    socket.addEventListener('close', onClose);
    socket.send(JSON.stringify({ stream: kind, params, token }));
  });
}

function openSocket(url: string, Ctor: WebSocketConstructor | undefined, timeoutMs: number): Promise<WebSocket> {
  if (Ctor === undefined) {
    return Promise.reject(new ConnectError(url, 'other', 'this runtime has no WebSocket: pass one in the options'));
  }
  return new Promise((resolve, reject) => {
    const socket = new Ctor(url);
    const timer = setTimeout(() => fail(new ConnectError(url, 'timeout', `connecting to ${url} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onOpen = () => {
      cleanup();
      resolve(socket);
    };
    // Browsers say nothing about why (a refused token or Origin looks like any failure).
    const onClose = (event: CloseEvent) =>
      fail(new ConnectError(url, 'closed', `cannot connect to the engine at ${url} (closed with code ${event.code})`));
    const onError = () => undefined;
    const fail = (error: ConnectError) => {
      cleanup();
      socket.close();
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('close', onClose);
      socket.removeEventListener('error', onError);
    };
    socket.addEventListener('open', onOpen);
    socket.addEventListener('close', onClose);
    socket.addEventListener('error', onError);
  });
}

class BrowserWsTransport extends HeldTransport {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    super();
    this.#socket = socket;
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data === 'string') return this.deliver(event.data);
      this.finish(new ProtocolError('invalid-message', 'the engine sent a binary frame on a request connection'));
      socket.close();
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      this.finish(event.code === 1000 || event.code === 1005 ? undefined : new Error(`closed with code ${event.code}${event.reason ? ` (${event.reason})` : ''}`));
    });
  }

  send(text: string): void {
    if (this.#socket.readyState === OPEN) this.#socket.send(text);
  }

  close(): void {
    this.#socket.close(1000);
  }
}

class Stream implements BrowserStream {
  readonly socket: WebSocket;
  readonly #held: Uint8Array[] = [];
  readonly #dataCbs = new Set<(bytes: Uint8Array) => void>();
  readonly #closeCbs = new Set<(info: { code: number; reason: string }) => void>();
  #closed: { code: number; reason: string } | undefined;

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener('message', (event: MessageEvent) => {
      const bytes = toBytes(event.data);
      if (bytes === undefined) return;
      if (this.#dataCbs.size === 0) this.#held.push(bytes);
      else for (const cb of [...this.#dataCbs]) cb(bytes);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      this.#closed = { code: event.code, reason: event.reason };
      for (const cb of [...this.#closeCbs]) cb(this.#closed);
      this.#closeCbs.clear();
    });
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(bytes: Uint8Array | ArrayBuffer): void {
    if (this.socket.readyState === OPEN) this.socket.send(bytes as ArrayBufferView<ArrayBuffer> | ArrayBuffer);
  }

  onData(cb: (bytes: Uint8Array) => void): Disposable {
    this.#dataCbs.add(cb);
    for (const bytes of this.#held.splice(0)) cb(bytes);
    return { dispose: () => void this.#dataCbs.delete(cb) };
  }

  onClose(cb: (info: { code: number; reason: string }) => void): Disposable {
    if (this.#closed !== undefined) {
      const closed = this.#closed;
      queueMicrotask(() => cb(closed));
      return { dispose: () => undefined };
    }
    this.#closeCbs.add(cb);
    return { dispose: () => void this.#closeCbs.delete(cb) };
  }

  close(): void {
    this.socket.close(1000);
  }
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return new TextEncoder().encode(data);
  return undefined;
}
