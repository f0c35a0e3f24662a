// What an unauthenticated relocation peer can cost the engine: a refused peer is disconnected
// instead of being read forever, an over-long line ends the connection at the line limit, and
// hosts-allow patterns admit whole addresses only. The peers here are raw TCP sockets sending
// what a hostile client would; the server is the real one, on a real (idle) domain manager.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hostAllowed, startRelocationServer, type RelocationServer } from '../../engine/migration/index.js';
import { startTestEngine, type TestEngine } from './helpers/engine.js';

const TOKEN = 'test-relocation-token-0123456789';
let engine: TestEngine;
let open: RelocationServer;
let closed: RelocationServer;
const logged: string[] = [];

beforeAll(async () => {
  engine = startTestEngine();
  const common = { manager: engine.manager, address: '127.0.0.1', port: 0, token: TOKEN, log: (_: string, m: string) => logged.push(m) };
  open = await startRelocationServer({ ...common, hostsAllow: [] });
  // Only 27.0.0.1 may relocate: an unanchored pattern would admit 127.0.0.1 as well.
  closed = await startRelocationServer({ ...common, hostsAllow: [/27\.0\.0\.1/] });
});

afterAll(async () => {
  await open?.close();
  await closed?.close();
  await engine?.dispose();
});

interface Flood {
  /** Bytes the peer got into the connection before the server closed it. */
  sent: number;
  /** The server's words before it closed. */
  received: string;
  closedByServer: boolean;
}

/** Sends `lines` first, then up to `total` bytes of junk without a newline, as fast as TCP takes them. */
function flood(port: number, lines: string[], total: number, waitForGreeting: boolean): Promise<Flood> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    let received = '';
    let closedByServer = false;
    let started = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ sent, received, closedByServer });
    };
    // Bounds the probe itself: a server that keeps reading lets all of `total` through quickly.
    const timer = setTimeout(finish, 20_000);
    const pump = () => {
      while (sent < total && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (sent >= total) finish();
    };
    const start = () => {
      if (started) return;
      started = true;
      for (const line of lines) socket.write(line);
      pump();
    };
    socket.on('data', (d: Buffer) => {
      received += d.toString();
      if (waitForGreeting && received.includes('\n')) start();
    });
    socket.on('connect', () => {
      if (!waitForGreeting) start();
    });
    socket.on('error', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
  });
}

const FLOOD = 30 * 1024 * 1024;

describe('relocation refusals', () => {
  test('a peer refused for a bad AUTH is disconnected; its flood is not read', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const r = await flood(open.port, [`AUTH ${'0'.repeat(64)}\n`], FLOOD, true);
    expect(r.received).toMatch(/^DOM0-RELOCATE 1 [0-9a-f]{64}\nERR authentication failed/);
    expect(r.closedByServer).toBe(true);
    // Kernel socket buffers take a few MiB; a server that kept reading would take all 30.
    expect(r.sent).toBeLessThan(FLOOD / 2);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });

  test('a line longer than the protocol allows ends the connection at the limit', async () => {
    const r = await flood(open.port, [], FLOOD, true);
    expect(r.closedByServer).toBe(true);
    expect(r.sent).toBeLessThan(FLOOD / 2);
    expect(logged.some((m) => /protocol line too long/.test(m))).toBe(true);
  });

  test('a peer outside hosts-allow is refused before anything is read, and disconnected', async () => {
    const r = await flood(closed.port, [], FLOOD, false);
    expect(r.received).toMatch(/^ERR 127\.0\.0\.1 is not allowed to relocate domains here/);
    expect(r.closedByServer).toBe(true);
    expect(r.sent).toBeLessThan(FLOOD / 2);
  });

  test('hosts-allow patterns match whole addresses', () => {
    expect(hostAllowed([/127\.0\.0\.1/], '127.0.0.10')).toBe(false);
    expect(hostAllowed([/127\.0\.0\.1/], '127.0.0.1')).toBe(true);
    expect(hostAllowed([/127\.0\.0\.1/], '::ffff:127.0.0.1')).toBe(true);
    expect(hostAllowed([/^192\.168\.1\.[0-9]+$/], '192.168.1.77')).toBe(true);
    expect(hostAllowed([/192\.168\.1\.[0-9]+/], '10.192.168.1.5')).toBe(false);
    expect(hostAllowed([/10\.0\.0\.1|10\.0\.0\.2/], '10.0.0.2')).toBe(true);
    expect(hostAllowed([], '203.0.113.9')).toBe(true);
  });
});
