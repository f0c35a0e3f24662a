// Web mode: xend serves the built renderer over HTTP and the engine protocol over WebSocket on the
// same port, like Cockpit. The page itself is public code; every engine connection needs the token,
// which travels in the URL's fragment (never sent to the server in requests, never logged).

import { createReadStream, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { isInsideDir } from '../common/safe-path.js';
import http from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateToken, listenWebSocket, type WebSocketListener } from '../protocol/node/ws-server.js';
import type { ConnectionAcceptor } from '../protocol/node/server.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** The same policy as renderer/index.html's meta tag, sent as a header too. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function defaultRendererDir(): string {
  // out/engine/xend/web.js → out/renderer
  return fileURLToPath(new URL('../../renderer/', import.meta.url));
}

/** The web token, kept in <config>/web-token (0600) so the URL stays valid across xend restarts. */
export function loadOrCreateWebToken(path: string): string {
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) return token;
  }
  const token = generateToken();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`web listen address '${value}' is not host:port (e.g. 127.0.0.1:8800)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export interface WebMode {
  /** http://host:port/#token=… — what a user opens. */
  url: string;
  close(): Promise<void>;
}

export async function startWebMode(opts: {
  server: ConnectionAcceptor;
  listen: string;
  token: string;
  allowRemote: boolean;
  rendererDir?: string;
  /** Pages from other origins that may connect (the Electron app's file:// page). */
  allowedOrigins?: readonly string[];
  /** The server of another connection's endpoint (`/engine?connection=<id>`), e.g. a libvirt host's adapter. */
  route?: (connection: string) => ConnectionAcceptor | undefined;
}): Promise<WebMode> {
  const root = normalize(opts.rendererDir ?? defaultRendererDir());
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`the web UI is not built (${join(root, 'index.html')} is missing): run 'npm run build' first`);
  }
  const httpServer = http.createServer((req, res) => serveStatic(root, req, res));
  const { host, port } = parseListen(opts.listen);
  let ws: WebSocketListener;
  try {
    ws = await listenWebSocket(opts.server, { httpServer, host, port, token: opts.token, allowRemote: opts.allowRemote, allowedOrigins: opts.allowedOrigins, route: opts.route });
  } catch (err) {
    httpServer.close();
    throw err;
  }
  const shownHost = ws.host.includes(':') ? `[${ws.host}]` : ws.host;
  return {
    url: `http://${shownHost}:${ws.port}/#token=${opts.token}`,
    async close() {
      await ws.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

function serveStatic(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    res.writeHead(400, headers).end('Bad Request');
    return;
  }
  if (pathname.includes('\0')) {
    res.writeHead(400, headers).end('Bad Request');
    return;
  }
  const file = normalize(join(root, pathname === '/' ? 'index.html' : pathname));
  // Nothing outside the renderer's folder is ever served.
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    res.writeHead(403, headers).end('Forbidden');
    return;
  }
  let stat;
  try {
    // A symlink in the folder (a build step's, or planted) must not lead out of it either.
    if (!isInsideDir(realpathSync(file), realpathSync(root))) {
      res.writeHead(403, headers).end('Forbidden');
      return;
    }
    stat = statSync(file);
  } catch {
    res.writeHead(404, headers).end('Not Found');
    return;
  }
  if (!stat.isFile()) {
    res.writeHead(404, headers).end('Not Found');
    return;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': stat.size,
    'Cache-Control': file.endsWith('index.html') ? 'no-cache' : 'max-age=3600',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}
