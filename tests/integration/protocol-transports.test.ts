// The engine protocol over real sockets: the unix socket the CLIs use and the WebSocket the GUI
// uses, with the promises the issue makes: permissions, authentication, refusals that change
// nothing, stream channels with backpressure, and one bad client never stalling the others.

import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { connectBrowserWebSocket } from '../../engine/protocol/browser/index.js';
import type { WebSocketConstructor } from '../../engine/protocol/browser/index.js';
import {
  ConnectError,
  connectUnix,
  connectWebSocket,
  defineEvents,
  defineMethods,
  defineStreams,
  DisconnectedError,
  listenUnix,
  listenWebSocket,
  ListenError,
  ProtocolServer,
  RemoteError,
} from '../../engine/protocol/index.js';
import type { Handlers, ProtocolLogger, ServerLimits, StreamOpeners, UnixListener, WebSocketListener } from '../../engine/protocol/index.js';

// ---------------------------------------------------------------------------------------------
// A demo protocol: not xend's, just enough to exercise the framework.

const methods = defineMethods({
  'demo.echo': { params: z.object({ text: z.string() }), result: z.object({ text: z.string() }), doc: 'Echoes. Always allowed.' },
  'demo.count': { params: z.void(), result: z.number(), doc: 'How many calls ran on this server.' },
  'demo.missing': { params: z.object({ name: z.string() }), result: z.void(), doc: 'Always refused with NoSuchDomain.' },
});

const events = defineEvents({
  'domain.state': { data: z.object({ name: z.string(), state: z.string() }), doc: 'A domain changed state.' },
  'stats.sample': { data: z.object({ name: z.string(), pad: z.string() }), doc: 'A stats sample.' },
});

const streams = defineStreams({
  'demo.echo': { params: z.object({}), doc: 'Echoes bytes back.' },
  'demo.source': { params: z.object({ bytes: z.number().int().min(0) }), doc: 'Sends `bytes` bytes, produced on demand.' },
  'demo.sink': { params: z.object({}), doc: 'Counts the bytes it receives.' },
});

const TOKEN = 'test-token-0123456789abcdef';

interface Demo {
  server: ProtocolServer<typeof methods, typeof events, typeof streams>;
  log: ProtocolLogger & { warnings: string[]; errors: string[] };
  /** Handler runs, by method. */
  runs: Map<string, number>;
  /** Bytes the current demo.source has produced so far. */
  produced: () => number;
  sinkReceived: () => number;
}

function demoServer(limits: ServerLimits = {}): Demo {
  const warnings: string[] = [];
  const errors: string[] = [];
  const log = { warnings, errors, warn: (m: string) => void warnings.push(m), error: (m: string) => void errors.push(m) };
  const runs = new Map<string, number>();
  const ran = (method: string) => runs.set(method, (runs.get(method) ?? 0) + 1);
  let produced = 0;
  let sinkReceived = 0;
  const handlers: Handlers<typeof methods> = {
    'demo.echo': ({ text }) => (ran('demo.echo'), { text }),
    'demo.count': () => (ran('demo.count'), [...runs.values()].reduce((a, b) => a + b, 0)),
    'demo.missing': ({ name }) => {
      ran('demo.missing');
      throw Object.assign(new Error(`domain '${name}' does not exist`), { code: 'NoSuchDomain' });
    },
  };
  const streamOpeners: StreamOpeners<typeof streams> = {
    'demo.echo': async () => new PassThrough(),
    'demo.source': async ({ bytes }) => {
      produced = 0;
      const chunk = randomBytes(64 * 1024);
      const readable = new Readable({
        read() {
          if (produced >= bytes) return void this.push(null);
          const piece = chunk.subarray(0, Math.min(chunk.length, bytes - produced));
          produced += piece.length;
          this.push(piece);
        },
      });
      return { readable, writable: new PassThrough().resume() };
    },
    'demo.sink': async () => {
      sinkReceived = 0;
      const writable = new PassThrough();
      writable.on('data', (chunk: Buffer) => (sinkReceived += chunk.length));
      return { readable: new Readable({ read() {} }), writable };
    },
  };
  const server = new ProtocolServer({ methods, handlers, events, streams, streamOpeners, limits, log });
  return { server, log, runs, produced: () => produced, sinkReceived: () => sinkReceived };
}

// ---------------------------------------------------------------------------------------------
// Raw peers: speak the wire format by hand, to send what a well-behaved client never would.

interface RawPeer {
  send(text: string): void;
  /** The next message received (parsed JSON). */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  closed: Promise<{ code?: number }>;
  pause(): void;
  destroy(): void;
}

function rawUnix(path: string): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    const peer = queuePeer(
      (text) => void socket.write(`${text}\n`),
      () => socket.pause(),
      () => socket.destroy(),
    );
    let rest = '';
    socket.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) peer.push(line);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => peer.end({}));
    socket.once('connect', () => resolve(peer.peer));
    socket.once('error', reject);
  });
}

function rawWs(url: string, headers: Record<string, string> = {}): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const peer = queuePeer(
      (text) => ws.send(text),
      () => ws.pause(),
      () => ws.terminate(),
    );
    ws.on('message', (data: Buffer) => peer.push(data.toString('utf8')));
    ws.once('close', (code) => peer.end({ code }));
    ws.once('open', () => resolve(peer.peer));
    ws.once('error', reject);
  });
}

function queuePeer(send: (text: string) => void, pause: () => void, destroy: () => void) {
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  let endCb: (info: { code?: number }) => void = () => undefined;
  const closed = new Promise<{ code?: number }>((resolve) => (endCb = resolve));
  return {
    push(text: string) {
      const message = JSON.parse(text) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    },
    end: (info: { code?: number }) => endCb(info),
    peer: {
      send,
      pause,
      destroy,
      closed,
      next(timeoutMs = 5000) {
        const queued = queue.shift();
        if (queued) return Promise.resolve(queued);
        return new Promise<Record<string, unknown>>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no message within the timeout')), timeoutMs);
          waiters.push((m) => {
            clearTimeout(timer);
            resolve(m);
          });
        });
      },
    } satisfies RawPeer,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared scenarios, run over both transports.

const MiB = 1024 * 1024;

/** Writes `total` random bytes through an echo stream, reading concurrently; returns how often
 * the writer had to wait for 'drain' (backpressure) and whether the bytes came back intact. */
async function echoThrough(stream: Duplex, total: number): Promise<{ drains: number; intact: boolean }> {
  const data = randomBytes(total);
  const received = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= total) resolve(Buffer.concat(chunks));
    });
    stream.on('error', reject);
  });
  let drains = 0;
  for (let offset = 0; offset < total; offset += 64 * 1024) {
    if (!stream.write(data.subarray(offset, offset + 64 * 1024))) {
      drains++;
      await new Promise((resolve) => stream.once('drain', resolve));
    }
  }
  const back = await received;
  stream.end();
  const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  return { drains, intact: back.length === total && hash(back) === hash(data) };
}

/**
 * Reads 1 MiB of a demo.source stream, stops reading for a while, then reads the rest. With
 * backpressure the producer stalls while nobody reads: whatever the socket buffers hold, its
 * count stops moving. Returns the counts seen during the stall and the bytes received.
 */
async function readWithStall(stream: Duplex, produced: () => number): Promise<{ received: number; stalled: number[] }> {
  let received = 0;
  const stalled: number[] = [];
  // The async iterator reads on demand, so not iterating is not reading.
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const before = received;
    received += chunk.length;
    if (before < MiB && received >= MiB) {
      for (const wait of [150, 150]) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        stalled.push(produced());
      }
    }
  }
  return { received, stalled };
}

/** Resolves once `predicate` holds, checking every few milliseconds. */
async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Floods subscribed connections with events until `until` resolves, yielding between batches
 * so the event loop keeps serving other clients, as the engine's stats tick would. */
async function flood(demo: Demo, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.then(() => (done = true));
  const pad = 'x'.repeat(2000);
  let sent = 0;
  const deadline = Date.now() + 20_000;
  while (!done && Date.now() < deadline) {
    for (let i = 0; i < 50; i++) sent += demo.server.broadcast('stats.sample', { name: 'web', pad });
    await tick();
  }
  return sent;
}

interface Transport {
  name: string;
  start(demo: Demo): Promise<{ target: string; close(): Promise<void> }>;
  connect(target: string): ReturnType<typeof connectUnix<typeof methods, typeof events, typeof streams>>;
  raw(target: string): Promise<RawPeer>;
}

const transports: Transport[] = [
  {
    name: 'unix socket',
    async start(demo) {
      const listener = await listenUnix(join(dir, `s${++n}.sock`), demo.server);
      return { target: listener.path, close: () => listener.close() };
    },
    connect: (target) => connectUnix(target, methods, { events, streams }),
    raw: (target) => rawUnix(target),
  },
  {
    name: 'WebSocket',
    async start(demo) {
      const listener = await listenWebSocket(demo.server, { token: TOKEN });
      return { target: listener.url, close: () => listener.close() };
    },
    connect: (target) => connectWebSocket(target, TOKEN, methods, { events, streams }),
    raw: (target) => rawWs(target, { Authorization: `Bearer ${TOKEN}` }),
  },
];

let dir: string;
let n = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  dir = mkdtempSync('/tmp/d0p-');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function started(transport: Transport, limits?: ServerLimits) {
  const demo = demoServer(limits);
  const listener = await transport.start(demo);
  cleanups.push(() => listener.close());
  return { demo, target: listener.target };
}

async function connected(transport: Transport, target: string) {
  const client = await transport.connect(target);
  cleanups.push(() => void client.close());
  return client;
}

describe.each(transports)('over a $name', (transport) => {
  it('round-trips calls, errors and events', async () => {
    const { demo, target } = await started(transport);
    const client = await connected(transport, target);
    await expect(client.call('demo.echo', { text: 'hello' })).resolves.toEqual({ text: 'hello' });
    const error = (await client.call('demo.missing', { name: 'web' }).catch((e: unknown) => e)) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(`Error: ${error.message}`).toBe("Error: domain 'web' does not exist");
    expect(error.code).toBe('NoSuchDomain');
    await expect(client.call('demo.echo', { text: 5 as unknown as string })).rejects.toMatchObject({ code: 'InvalidParams' });

    const states: unknown[] = [];
    client.on('domain.state', (data) => states.push(data));
    await client.subscribe(['domain.*']);
    demo.server.broadcast('stats.sample', { name: 'web', pad: '' });
    demo.server.broadcast('domain.state', { name: 'web', state: 'running' });
    await expect(client.call('demo.count')).resolves.toBe(3);
    expect(states).toEqual([{ name: 'web', state: 'running' }]);
  });

  it('carries 20 MiB through an echo stream intact, with the writer held back', async () => {
    const { target } = await started(transport);
    const client = await connected(transport, target);
    const stream = await client.openStream('demo.echo', {});
    const { drains, intact } = await echoThrough(stream, 20 * MiB);
    expect(intact).toBe(true);
    expect(drains).toBeGreaterThan(0);
  });

  it('stops a stream producer while the reader does not read', async () => {
    const { demo, target } = await started(transport);
    const client = await connected(transport, target);
    const total = 48 * MiB;
    const stream = await client.openStream('demo.source', { bytes: total });
    const { received, stalled } = await readWithStall(stream, demo.produced);
    expect(received).toBe(total);
    const [first, second] = stalled as [number, number];
    // Only the socket buffers' worth ran ahead, then the producer waited.
    expect(first).toBeLessThan(total / 2);
    expect(second).toBe(first);
  });

  it('refuses unknown stream kinds and bad params with named errors', async () => {
    const { target } = await started(transport);
    const client = await connected(transport, target);
    await expect(client.openStream('demo.source', { bytes: -1 })).rejects.toMatchObject({ name: 'RemoteError', code: 'InvalidParams' });
    // The client's table guards kinds; a raw peer asks for one that does not exist.
    const raw = await transport.raw(target);
    raw.send(JSON.stringify({ stream: 'nope' }));
    expect(await raw.next()).toMatchObject({ ok: false, error: { code: 'MethodNotFound' } });
    await raw.closed;
  });

  it('answers an oversized message with TooLarge and closes only that connection', async () => {
    const { demo, target } = await started(transport);
    const other = await connected(transport, target);
    const raw = await transport.raw(target);
    raw.send(JSON.stringify({ id: 1, method: 'demo.echo', params: { text: 'x'.repeat(1.5 * MiB) } }));
    expect(await raw.next()).toMatchObject({ id: null, error: { code: 'TooLarge' } });
    await raw.closed;
    expect(demo.runs.get('demo.echo')).toBeUndefined();
    await expect(other.call('demo.echo', { text: 'still here' })).resolves.toEqual({ text: 'still here' });
  });

  it('closes a client that sends garbage while others carry on', async () => {
    const { demo, target } = await started(transport);
    const other = await connected(transport, target);
    const raw = await transport.raw(target);
    for (let i = 0; i < 100; i++) raw.send(i % 2 === 0 ? 'garbage' : '{"what":"ever"}');
    expect(await raw.next()).toMatchObject({ id: null, error: { code: 'ParseError' } });
    expect(await raw.next()).toMatchObject({ id: null, error: { code: 'InvalidRequest' } });
    await raw.closed;
    expect(demo.log.warnings.join('\n')).toMatch(/closed after 16 malformed/);
    await expect(other.call('demo.echo', { text: 'fine' })).resolves.toEqual({ text: 'fine' });
  });

  it("does not let a client that stops reading delay another client's calls", async () => {
    const { demo, target } = await started(transport, { maxBufferedBytes: 2 * MiB });
    const fast = await connected(transport, target);
    const slow = await transport.raw(target);
    slow.send(JSON.stringify({ id: 1, method: 'events.subscribe', params: { topics: ['stats.*'] } }));
    expect(await slow.next()).toEqual({ id: 1, result: { topics: ['stats.*'] } });
    slow.pause();

    // A paused peer does not notice that it was cut off (it is not reading): watch the server.
    const slowClosed = until(() => demo.log.warnings.some((w) => /not reading/.test(w)));
    const flooding = flood(demo, slowClosed);
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await fast.call('demo.echo', { text: `call ${i}` });
      latencies.push(performance.now() - started);
    }
    await slowClosed;
    const sent = await flooding;
    expect(sent).toBeGreaterThan(1000);
    slow.destroy();
    // Each call is a few hundred microseconds of work; 250 ms allows a slow CI machine.
    expect(Math.max(...latencies)).toBeLessThan(250);
    await expect(fast.call('demo.echo', { text: 'after' })).resolves.toEqual({ text: 'after' });
  });

  it('fails pending calls with DisconnectedError when the server goes away', async () => {
    const demo = demoServer();
    const listener = await transport.start(demo);
    const client = await transport.connect(listener.target);
    await client.call('demo.echo', { text: 'a' });
    const closed = client.closed;
    await listener.close();
    await expect(closed).resolves.toMatchObject({ kind: 'remote' });
    await expect(client.call('demo.echo', { text: 'a' })).rejects.toBeInstanceOf(DisconnectedError);
  });
});

describe('the unix socket', () => {
  const unix = transports[0] as Transport;

  it('is created with mode 0600 and leaves no temporary files', async () => {
    const { target } = await started(unix);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(statSync(target).isSocket()).toBe(true);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('replaces a stale socket left by a dead server', async () => {
    const path = join(dir, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(statSync(path).isSocket()).toBe(true);

    const demo = demoServer();
    const listener = await listenUnix(path, demo.server);
    cleanups.push(() => listener.close());
    const client = await connected(unix, path);
    await expect(client.call('demo.echo', { text: 'new' })).resolves.toEqual({ text: 'new' });
  });

  it('refuses to start a second server on a live socket, and the first keeps serving', async () => {
    const { target } = await started(unix);
    const error = (await listenUnix(target, demoServer().server).catch((e: unknown) => e)) as ListenError;
    expect(error).toBeInstanceOf(ListenError);
    expect(error.kind).toBe('in-use');
    expect(error.message).toBe(`another server is listening on ${target}`);
    const client = await connected(unix, target);
    await expect(client.call('demo.echo', { text: 'first' })).resolves.toEqual({ text: 'first' });
  });

  it('refuses to replace a file that is not a socket', async () => {
    const path = join(dir, 'precious.txt');
    writeFileSync(path, 'keep me');
    await expect(listenUnix(path, demoServer().server)).rejects.toMatchObject({ kind: 'not-a-socket' });
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('removes its socket on close, and says so to a client that connects later', async () => {
    const demo = demoServer();
    const path = join(dir, 'gone.sock');
    const listener: UnixListener = await listenUnix(path, demo.server);
    await listener.close();
    expect(existsSync(path)).toBe(false);
    const error = (await connectUnix(path, methods).catch((e: unknown) => e)) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.kind).toBe('missing');
  });

  it('answers a one-shot script that half-closes (echo request | nc -U)', async () => {
    const { target } = await started(unix);
    const socket = net.connect({ path: target, allowHalfOpen: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end(`${JSON.stringify({ id: 1, method: 'demo.echo', params: { text: 'script' } })}\n`);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => socket.once('end', resolve));
    expect(JSON.parse(Buffer.concat(chunks).toString('utf8'))).toEqual({ id: 1, result: { text: 'script' } });
    socket.destroy();
  });
});

describe('the WebSocket', () => {
  async function wsListener(opts: Partial<Parameters<typeof listenWebSocket>[1]> = {}, limits?: ServerLimits) {
    const demo = demoServer(limits);
    const listener: WebSocketListener = await listenWebSocket(demo.server, { token: TOKEN, ...opts });
    cleanups.push(() => listener.close());
    return { demo, listener, url: listener.url };
  }

  it('runs nothing for a connection without a token, until it authenticates', async () => {
    const { demo, url } = await wsListener();
    const raw = await rawWs(url);
    raw.send(JSON.stringify({ id: 1, method: 'demo.echo', params: { text: 'a' } }));
    raw.send(JSON.stringify({ id: 2, method: 'events.subscribe', params: { topics: ['*'] } }));
    expect(await raw.next()).toMatchObject({ id: 1, error: { code: 'Unauthenticated' } });
    expect(await raw.next()).toMatchObject({ id: 2, error: { code: 'Unauthenticated' } });
    expect(demo.server.broadcast('domain.state', { name: 'web', state: 'running' })).toBe(0);
    expect(demo.runs.size).toBe(0);
    raw.send(JSON.stringify({ auth: TOKEN }));
    expect(await raw.next()).toEqual({ auth: 'ok' });
    raw.send(JSON.stringify({ id: 3, method: 'demo.echo', params: { text: 'a' } }));
    expect(await raw.next()).toEqual({ id: 3, result: { text: 'a' } });
    expect(demo.runs.get('demo.echo')).toBe(1);
    raw.destroy();
  });

  it('closes a connection that sends a wrong token, and refuses one in the handshake', async () => {
    const { demo, url } = await wsListener();
    const raw = await rawWs(url);
    raw.send(JSON.stringify({ auth: 'not-the-token' }));
    expect(await raw.next()).toMatchObject({ id: null, error: { code: 'Unauthenticated' } });
    expect(await raw.closed).toEqual({ code: 1008 });

    const byHeader = (await connectWebSocket(url, 'not-the-token', methods).catch((e: unknown) => e)) as ConnectError;
    expect(byHeader).toBeInstanceOf(ConnectError);
    expect(byHeader.kind).toBe('unauthenticated');
    await expect(rawWs(`${url}?token=not-the-token`)).rejects.toThrow(/401/);
    expect(demo.runs.size).toBe(0);
    expect(demo.log.warnings.filter((w) => /wrong token/.test(w))).toHaveLength(3);
  });

  it('accepts the token by header, by query and by first message', async () => {
    const { url } = await wsListener();
    const byHeader = await connectWebSocket(url, TOKEN, methods);
    cleanups.push(() => void byHeader.close());
    await expect(byHeader.call('demo.echo', { text: 'header' })).resolves.toEqual({ text: 'header' });

    const byQuery = await rawWs(`${url}?token=${TOKEN}`);
    byQuery.send(JSON.stringify({ id: 1, method: 'demo.echo', params: { text: 'query' } }));
    expect(await byQuery.next()).toEqual({ id: 1, result: { text: 'query' } });
    byQuery.destroy();

    const byMessage = await connectBrowserWebSocket(url, TOKEN, methods, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    cleanups.push(() => void byMessage.close());
    await expect(byMessage.call('demo.echo', { text: 'message' })).resolves.toEqual({ text: 'message' });
  });

  it('gives the browser client events and a byte stream', async () => {
    const { demo, url } = await wsListener();
    const client = await connectBrowserWebSocket(url, TOKEN, methods, {
      events,
      streams,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    cleanups.push(() => void client.close());
    const states: unknown[] = [];
    client.on('domain.state', (data) => states.push(data));
    await client.subscribe(['domain.state']);
    demo.server.broadcast('domain.state', { name: 'web', state: 'paused' });
    await expect(client.call('demo.echo', { text: 'x' })).resolves.toEqual({ text: 'x' });
    expect(states).toEqual([{ name: 'web', state: 'paused' }]);

    const stream = await client.openStream('demo.echo', {});
    const payload = randomBytes(3 * MiB);
    const back: Uint8Array[] = [];
    let length = 0;
    const done = new Promise<void>((resolve) =>
      stream.onData((bytes) => {
        back.push(bytes);
        length += bytes.length;
        if (length >= payload.length) resolve();
      }),
    );
    for (let offset = 0; offset < payload.length; offset += 64 * 1024) stream.send(payload.subarray(offset, offset + 64 * 1024));
    await done;
    expect(Buffer.concat(back).equals(payload)).toBe(true);
    const closed = new Promise((resolve) => stream.onClose(resolve));
    stream.close();
    await expect(closed).resolves.toMatchObject({ code: 1000 });
  });

  it('takes a stream token in the stream open, and refuses a wrong one', async () => {
    const { demo, url } = await wsListener();
    const raw = await rawWs(url);
    raw.send(JSON.stringify({ stream: 'demo.echo', params: {}, token: 'nope' }));
    expect(await raw.next()).toMatchObject({ ok: false, error: { code: 'Unauthenticated' } });
    await raw.closed;
    expect(demo.log.warnings.join('\n')).toMatch(/stream refused, wrong token/);
  });

  it('refuses to bind a non-loopback address unless remote access is allowed', async () => {
    const demo = demoServer();
    const error = (await listenWebSocket(demo.server, { host: '0.0.0.0', token: TOKEN }).catch((e: unknown) => e)) as ListenError;
    expect(error).toBeInstanceOf(ListenError);
    expect(error.kind).toBe('not-loopback');
    expect(error.message).toMatch(/refusing to listen on 0\.0\.0\.0/);

    const shared = http.createServer();
    await new Promise<void>((resolve) => shared.listen(0, '0.0.0.0', resolve));
    cleanups.push(() => new Promise<void>((resolve) => shared.close(() => resolve())));
    await expect(listenWebSocket(demo.server, { httpServer: shared, token: TOKEN })).rejects.toMatchObject({ kind: 'not-loopback' });

    const remote = await listenWebSocket(demo.server, { host: '0.0.0.0', token: TOKEN, allowRemote: true });
    cleanups.push(() => remote.close());
    expect(remote.host).toBe('0.0.0.0');
  });

  it('refuses pages from an Origin that is not allowed, and accepts its own and listed ones', async () => {
    const { demo, listener, url } = await wsListener({ allowedOrigins: ['app://dom0'] });
    const evil = (await connectWebSocket(url, TOKEN, methods, { origin: 'https://evil.example' }).catch((e: unknown) => e)) as ConnectError;
    expect(evil).toBeInstanceOf(ConnectError);
    expect(evil.kind).toBe('forbidden');
    expect(demo.log.warnings.join('\n')).toMatch(/Origin 'https:\/\/evil\.example' is not allowed/);

    for (const origin of ['app://dom0', `http://127.0.0.1:${listener.port}`, `http://localhost:${listener.port}`]) {
      const client = await connectWebSocket(url, TOKEN, methods, { origin });
      await expect(client.call('demo.echo', { text: origin })).resolves.toEqual({ text: origin });
      await client.close();
    }
  });

  it('refuses a Host header that is not loopback (DNS rebinding)', async () => {
    const { url } = await wsListener();
    await expect(rawWs(url, { Authorization: `Bearer ${TOKEN}`, Host: 'rebound.example' })).rejects.toThrow(/403/);
  });

  it('shares an HTTP server with static files', async () => {
    const shared = http.createServer((_req, res) => res.end('<h1>Dom0</h1>'));
    const demo = demoServer();
    const listener = await listenWebSocket(demo.server, { httpServer: shared, token: TOKEN });
    cleanups.push(() => new Promise<void>((resolve) => shared.close(() => resolve())));
    cleanups.push(() => listener.close());
    const page = await fetch(`http://127.0.0.1:${listener.port}/`);
    expect(await page.text()).toBe('<h1>Dom0</h1>');
    const client = await connectWebSocket(listener.url, TOKEN, methods);
    cleanups.push(() => void client.close());
    await expect(client.call('demo.echo', { text: 'same port' })).resolves.toEqual({ text: 'same port' });
    await expect(rawWs(listener.url.replace('/engine', '/other'), { Authorization: `Bearer ${TOKEN}` })).rejects.toThrow(/404/);
  });

  it('closes a WebSocket over the size limit with code 1009', async () => {
    const { url } = await wsListener();
    const raw = await rawWs(url, { Authorization: `Bearer ${TOKEN}` });
    raw.send('x'.repeat(1.5 * MiB));
    expect(await raw.next()).toMatchObject({ error: { code: 'TooLarge' } });
    expect(await raw.closed).toEqual({ code: 1009 });
  });

  it('splits a large stream write into frames the server accepts', async () => {
    const { demo, url } = await wsListener();
    const client = await connectWebSocket(url, TOKEN, methods, { streams });
    cleanups.push(() => void client.close());
    const stream = await client.openStream('demo.sink', {});
    stream.write(randomBytes(10 * MiB));
    const deadline = Date.now() + 10_000;
    while (demo.sinkReceived() < 10 * MiB && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(demo.sinkReceived()).toBe(10 * MiB);
    stream.destroy();
  });
});
