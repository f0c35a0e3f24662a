// Web mode's door: the page is served with a strict CSP and nothing outside the renderer folder;
// the engine behind it answers only to the token; remote listening must be asked for.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolvePaths } from '../../engine/common/paths.js';
import { connectWebSocket } from '../../engine/protocol/node/ws-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { startXend, type XendHandle } from '../../engine/xend/daemon.js';
import { stopXenstored } from './helpers/engine.js';

let home: string;
let xend: XendHandle;
let base: string;
let token: string;

function get(path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    // A raw request, so '..' segments reach the server unnormalised.
    const req = http.request(`${base}/`, { path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  home = mkdtempSync('/tmp/d0w-');
  const renderer = join(home, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Dom0</title>');
  writeFileSync(join(home, 'secret.txt'), 'not for the web');
  xend = await startXend({ paths: resolvePaths({ DOM0_HOME: home }), env: { ...process.env, DOM0_ACCEL: 'tcg' }, web: '127.0.0.1:0', rendererDir: renderer });
  const url = new URL(xend.webUrl!);
  base = `http://${url.host}`;
  token = url.hash.replace('#token=', '');
});

afterAll(async () => {
  await xend.stop();
  stopXenstored(home);
  rmSync(home, { recursive: true, force: true });
});

describe('web mode', () => {
  test('serves the page with a strict CSP and the token only in the fragment', async () => {
    expect(xend.webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{32,}$/);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Dom0</title>');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-eval/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(readFileSync(join(home, 'config/web-token'), 'utf8').trim()).toBe(token);
  });

  test('nothing outside the renderer folder is served', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%00']) {
      const r = await get(path);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.body).not.toContain('not for the web');
    }
  });

  test('the engine answers with the token and refuses without it', async () => {
    const ws = `ws://${new URL(base).host}/engine`;
    const client = await connectWebSocket(ws, token, xendMethods);
    const rows = await client.call('domain.list');
    expect(rows[0]?.name).toBe('Domain-0');
    await client.close();
    await expect(connectWebSocket(ws, 'x'.repeat(43), xendMethods)).rejects.toThrow();
  });

  test('a page from another origin cannot open the engine socket, even with the token', async () => {
    const { WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://${new URL(base).host}/engine?token=${token}`, { origin: 'http://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
    });
    expect(status).toBe(403);
  });

  test('listening on a non-loopback address needs (web-allow-remote yes)', async () => {
    const other = mkdtempSync('/tmp/d0w-');
    try {
      await expect(
        startXend({ paths: resolvePaths({ DOM0_HOME: other }), env: { ...process.env, DOM0_ACCEL: 'tcg' }, web: '0.0.0.0:0', rendererDir: join(home, 'renderer') }),
      ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0/);
    } finally {
      stopXenstored(other);
      rmSync(other, { recursive: true, force: true });
    }
  });
});
