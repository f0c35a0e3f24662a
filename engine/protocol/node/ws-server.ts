// The engine protocol over WebSocket: for the GUI, web mode and remote hosts. Who may connect:
// - the listener binds loopback only, unless `allowRemote` (remote access should also use TLS:
//   pass an https server);
// - a browser page may connect only from an allowed Origin, so a random web site open in the
//   user's browser cannot drive the engine (cross-site WebSocket hijacking); on loopback the Host
//   header must be a loopback name too, which defeats DNS rebinding;
// - every connection authenticates with the token: an `Authorization: Bearer` header, a
//   `?token=` query parameter, or a first message {auth: token} (browsers cannot set headers).
//   A wrong token in the handshake is refused with 401; until a token-less connection has
//   authenticated, nothing it sends runs.

import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex as DuplexStream } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { bearerToken, hostOfHostHeader, isLoopbackHost, loopbackOrigins, normalizeOrigin, tokensEqual } from './auth.js';
import { ListenError } from './errors.js';
import { joinStream } from './server.js';
import type { CloseWhy, ConnectionAcceptor, ServerConnection, ServerTransport, StreamPipe } from './server.js';

export interface WebSocketListenOptions {
  /** Address to bind (default 127.0.0.1). Ignored when `httpServer` is already listening. */
  host?: string;
  /** Port to bind (default 0: any free port; read it from the listener). */
  port?: number;
  /** An HTTP(S) server to share, so xend can serve the renderer on the same port (web mode).
   * It is made to listen on host/port unless it already listens. This listener answers every
   * upgrade request on it. */
  httpServer?: http.Server | https.Server;
  /** URL path of the endpoint (default '/engine'). */
  path?: string;
  /** The secret every connection must present (at least 16 characters; see generateToken). */
  token: string;
  /** Allows binding an address other hosts can reach. */
  allowRemote?: boolean;
  /** Origins (scheme://host:port) whose pages may connect, in addition to this listener's own
   * loopback origins. Clients that send no Origin (CLIs, other engines) are not affected. */
  allowedOrigins?: readonly string[];
  /** Serves `path?connection=<id>` with another server (a libvirt host's adapter) after the same
   * Host, Origin and token checks; an unknown id is refused with 404. */
  route?: (connection: string) => ConnectionAcceptor | undefined;
}

export interface WebSocketListener {
  /** ws://host:port/path (wss:// on an https server), without a token. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly connectionCount: number;
  /** Stops accepting and drops this listener's connections; closes the HTTP server if this
   * listener created it. */
  close(): Promise<void>;
}

/** A fresh random token, for xend to write where its clients can read it. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

const DEFAULT_PATH = '/engine';
/** Connections that have not shown the token yet, at once; more are refused (503). */
const MAX_PENDING_CONNECTIONS = 32;
/** What such a connection may send before its token: the {auth} message is ~100 bytes. */
const MAX_PENDING_BYTES = 16 * 1024;
const END_GRACE_MS = 2000;

export async function listenWebSocket(server: ConnectionAcceptor, opts: WebSocketListenOptions): Promise<WebSocketListener> {
  const { token, allowRemote = false } = opts;
  if (typeof token !== 'string' || token.length < 16) {
    throw new TypeError('listenWebSocket needs a token of at least 16 characters (see generateToken)');
  }
  const path = opts.path ?? DEFAULT_PATH;
  const ownServer = opts.httpServer === undefined;
  const httpServer = opts.httpServer ?? http.createServer((_req, res) => res.writeHead(426, { Connection: 'close' }).end());
  if (!httpServer.listening) {
    const host = opts.host ?? '127.0.0.1';
    if (!allowRemote && !isLoopbackHost(host)) {
      throw new ListenError(
        host,
        'not-loopback',
        `refusing to listen on ${host}: other machines could reach the engine. Listen on 127.0.0.1, or enable ` +
          `remote access (allowRemote) and protect it with TLS`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) =>
        reject(
          new ListenError(
            `${host}:${opts.port ?? 0}`,
            error.code === 'EADDRINUSE' ? 'address-in-use' : error.code === 'EACCES' ? 'denied' : 'other',
            `cannot listen on ${host}:${opts.port ?? 0}: ${error.message}`,
            { cause: error },
          ),
        );
      httpServer.once('error', onError);
      httpServer.listen(opts.port ?? 0, host, () => {
        httpServer.off('error', onError);
        resolve();
      });
    });
  }
  const address = httpServer.address() as AddressInfo | string | null;
  if (address === null || typeof address === 'string') {
    if (ownServer) httpServer.close();
    throw new ListenError(String(address), 'other', 'the HTTP server for the engine WebSocket must listen on TCP');
  }
  if (!allowRemote && !isLoopbackHost(address.address)) {
    if (ownServer) httpServer.close();
    throw new ListenError(
      address.address,
      'not-loopback',
      `refusing to serve the engine on ${address.address}: other machines could reach it. Enable remote access (allowRemote) to allow it`,
    );
  }
  const allowedOrigins = new Set([...loopbackOrigins(address.port), ...(opts.allowedOrigins ?? [])].map(normalizeOrigin));
  const wss = new WebSocketServer({
    noServer: true,
    // Request messages are capped at maxMessageBytes by the transport (with a TooLarge answer);
    // this is the hard cap on one frame's memory, stream frames included.
    maxPayload: Math.max(2 * server.limits.maxMessageBytes, 4 * 1024 * 1024),
    perMessageDeflate: false,
  });
  const log = server.log;
  let pending = 0;

  const onUpgrade = (req: http.IncomingMessage, socket: DuplexStream, head: Buffer) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return refuse(socket, 404, 'Not Found');
    if (!allowRemote && !isLoopbackHost(hostOfHostHeader(req.headers.host ?? ''))) {
      log.warn(`websocket from ${remote} refused: Host '${req.headers.host ?? ''}' is not a loopback name`);
      return refuse(socket, 403, 'Forbidden: Host not allowed');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(normalizeOrigin(origin))) {
      log.warn(`websocket from ${remote} refused: Origin '${origin}' is not allowed`);
      return refuse(socket, 403, 'Forbidden: Origin not allowed');
    }
    const given = bearerToken(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined;
    if (given !== undefined && !tokensEqual(given, token)) {
      log.warn(`websocket from ${remote} refused: wrong token`);
      return refuse(socket, 401, 'Unauthorized');
    }
    const routed = url.searchParams.get('connection');
    const target = routed === null ? server : opts.route?.(routed);
    if (target === undefined) return refuse(socket, 404, 'Not Found: no such connection');
    if (given !== undefined) {
      wss.handleUpgrade(req, socket, head, (ws) => new WsServerTransport(ws, target, remote, undefined));
      return;
    }
    // Not authenticated yet (a browser sends the token as its first message): such connections
    // are few, and each may send only a little, until they show the token.
    if (pending >= MAX_PENDING_CONNECTIONS) {
      log.warn(`websocket from ${remote} refused: ${pending} connections are already waiting to authenticate`);
      return refuse(socket, 503, 'Service Unavailable: too many unauthenticated connections');
    }
    pending++;
    let settled = false;
    let received = head.length;
    const settle = () => {
      if (settled) return;
      settled = true;
      pending--;
      req.socket.off('data', count);
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_PENDING_BYTES) {
        log.warn(`websocket from ${remote} closed: ${received} bytes sent before authenticating`);
        settle();
        req.socket.destroy();
      }
    };
    req.socket.on('data', count);
    req.socket.once('close', settle);
    wss.handleUpgrade(req, socket, head, (ws) => {
      new WsServerTransport(ws, target, remote, token, settle);
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const scheme = httpServer instanceof https.Server ? 'wss' : 'ws';
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${scheme}://${urlHost}:${address.port}${path}`,
    host: address.address,
    port: address.port,
    get connectionCount() {
      return wss.clients.size;
    },
    async close() {
      httpServer.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (ownServer) {
        httpServer.closeAllConnections();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
    },
  };
}

function refuse(socket: DuplexStream, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
}

/** WebSocket close codes (RFC 6455 §7.4.1) for the server's reasons. */
const CLOSE_CODES: Record<CloseWhy, [number, string]> = {
  'too-large': [1009, 'message too large'],
  unauthenticated: [1008, 'not authenticated'],
  garbage: [1002, 'too many malformed messages'],
  'not-reading': [1008, 'client not reading'],
  'stream-refused': [1008, 'stream refused'],
  shutdown: [1001, 'engine shutting down'],
};

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

class WsServerTransport implements ServerTransport {
  readonly kind = 'websocket';
  readonly remote: string;
  readonly #ws: WebSocket;
  readonly #connection: ServerConnection;
  readonly #maxMessageBytes: number;
  /** Set once a message opened a stream: later frames are stream bytes, kept for the pipe. */
  #early: Buffer[] | undefined;
  #ending = false;
  readonly #onMessage = (data: RawData) => this.#message(toBuffer(data));

  constructor(ws: WebSocket, server: ConnectionAcceptor, remote: string, token: string | undefined, onAuthenticated?: () => void) {
    this.#ws = ws;
    this.remote = remote;
    this.#maxMessageBytes = server.limits.maxMessageBytes;
    this.#connection = server.accept(this, token === undefined ? {} : { token, tokensEqual, onAuthenticated });
    ws.on('message', this.#onMessage);
    ws.on('error', () => undefined);
    ws.once('close', () => this.#connection.closed());
  }

  #message(data: Buffer): void {
    if (this.#early !== undefined) {
      this.#early.push(data);
      return;
    }
    if (data.length > this.#maxMessageBytes) return this.#connection.tooLarge(data.length);
    if (this.#connection.receive(data.toString('utf8')) === 'stop') {
      this.#early ??= [];
      this.pauseInput();
    }
  }

  send(text: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  end(why: CloseWhy): void {
    const [code, reason] = CLOSE_CODES[why];
    this.#ending = true;
    this.#ws.off('message', this.#onMessage);
    // Keep reading so the peer's close frame is seen and the closing handshake completes.
    this.#ws.resume();
    this.#ws.close(code, reason);
    setTimeout(() => this.#ws.terminate(), END_GRACE_MS).unref();
  }

  destroy(_why: CloseWhy): void {
    this.#ending = true;
    this.#ws.terminate();
  }

  pauseInput(): void {
    // An ending connection keeps reading, or the peer's close frame would go unseen.
    if (!this.#ending) this.#ws.pause();
  }

  resumeInput(): void {
    if (this.#early === undefined && !this.#ending) this.#ws.resume();
  }

  becomeStream(ack: string, pipe: StreamPipe, done: (error?: Error) => void): void {
    const ws = this.#ws;
    ws.send(ack);
    ws.off('message', this.#onMessage);
    const duplex = createWebSocketStream(ws);
    for (const chunk of this.#early ?? []) duplex.push(chunk);
    this.#early = [];
    joinStream(duplex, pipe, done);
  }
}
