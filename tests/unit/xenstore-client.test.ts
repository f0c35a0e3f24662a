// The client against an in-process daemon on a real unix socket: typed results and errnos,
// watches, transactions retried on EAGAIN, acting as a guest, malformed input, the lock.
// (tests/integration/xenstore-daemon.test.ts runs the daemon as its own process.)

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  XenstoreClient,
  XenstoreConnectError,
  XenstoreDisconnectedError,
  XenstoreError,
  XenstoredRunningError,
  startXenstored,
} from '../../engine/xenstore/index.js';
import type { Xenstored, XenstoredOptions } from '../../engine/xenstore/index.js';

let home: string;
let daemon: Xenstored | undefined;
const clients: XenstoreClient[] = [];
const logs: string[] = [];

function options(extra: Partial<XenstoredOptions> = {}): XenstoredOptions {
  return { dataDir: join(home, 'data'), runtimeDir: join(home, 'run'), log: (level, m) => logs.push(`${level}: ${m}`), ...extra };
}

async function start(extra: Partial<XenstoredOptions> = {}): Promise<Xenstored> {
  daemon = await startXenstored(options(extra));
  return daemon;
}

async function client(asDomid?: number): Promise<XenstoreClient> {
  const c = await XenstoreClient.connect(daemon?.socketPath, { asDomid });
  clients.push(c);
  return c;
}

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof XenstoreError) return err.errno;
    throw err;
  }
  return 'none';
}

/** A raw socket speaking the wire protocol by hand. */
async function raw(): Promise<{ socket: net.Socket; lines: string[]; closed: Promise<void>; next(): Promise<Record<string, unknown>> }> {
  const socket = net.createConnection({ path: daemon?.socketPath as string });
  await new Promise((resolve) => socket.once('connect', resolve));
  const lines: string[] = [];
  let buf = '';
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('error', () => {}); // the daemon resets connections it drops
  socket.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
    wake?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let taken = 0;
  return {
    socket,
    lines,
    closed,
    async next() {
      while (lines.length <= taken) await new Promise<void>((resolve) => (wake = resolve));
      return JSON.parse(lines[taken++] as string) as Record<string, unknown>;
    },
  };
}

beforeEach(() => {
  home = mkdtempSync('/tmp/xsc-');
  logs.length = 0;
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await daemon?.close();
  daemon = undefined;
  rmSync(home, { recursive: true, force: true });
});

describe('client basics', () => {
  it('reads, writes, lists, and reports errnos as XenstoreError', async () => {
    await start();
    const c = await client();
    await c.write('/local/domain/0/name', 'Domain-0');
    expect(await c.read('/local/domain/0/name')).toBe('Domain-0');
    await c.mkdir('/vm/abc');
    expect(await c.directory('/')).toEqual(['tool', 'local', 'vm']);
    expect(await c.exists('/vm/abc')).toBe(true);
    expect(await c.tryRead('/vm/none')).toBeUndefined();
    const err = await c.read('/nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XenstoreError);
    expect((err as XenstoreError).errno).toBe('ENOENT');
    expect(await errnoOf(c.write('/bad//path', ''))).toBe('EINVAL');
    expect(await errnoOf(c.rm('/'))).toBe('EINVAL');
    await c.setPerms('/vm/abc', ['n0', { domid: 3, access: 'r' }]);
    expect(await c.getPerms('/vm/abc')).toEqual([
      { domid: 0, access: 'n' },
      { domid: 3, access: 'r' },
    ]);
    await c.rm('/vm');
    expect(await c.exists('/vm/abc')).toBe(false);
  });

  it('the socket is mode 0600 and goes away with the daemon, with the lock', async () => {
    const d = await start();
    expect(statSync(d.socketPath).mode & 0o777).toBe(0o600);
    await d.close();
    daemon = undefined;
    expect(existsSync(d.socketPath)).toBe(false);
    expect(existsSync(join(home, 'data', 'xenstored.lock'))).toBe(false);
    const err = await XenstoreClient.connect(d.socketPath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XenstoreConnectError);
    expect((err as XenstoreConnectError).kind).toBe('not-running');
  });

  it('a second daemon on the same state dir is refused, naming the pid', async () => {
    await start();
    const err = await startXenstored(options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XenstoredRunningError);
    expect((err as XenstoredRunningError).pid).toBe(process.pid);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    // The first one still works.
    const c = await client();
    await c.write('/still', 'here');
  });

  it('pending requests fail with XenstoreDisconnectedError when the daemon goes away', async () => {
    const d = await start();
    const c = await client();
    let closedWith: Error | undefined;
    c.onClose((e) => (closedWith = e));
    await d.close();
    daemon = undefined;
    await expect(c.read('/tool')).rejects.toBeInstanceOf(XenstoreDisconnectedError);
    expect(closedWith).toBeInstanceOf(XenstoreDisconnectedError);
  });
});

describe('watches over the socket', () => {
  it('fire at once, then for each change at or below; dispose stops them', async () => {
    await start();
    const w = await client();
    const c = await client();
    const seen: string[] = [];
    let notify: (() => void) | undefined;
    const handle = await w.watch('/backend', 'be', (path, token) => {
      seen.push(`${path} ${token}`);
      notify?.();
    });
    const until = async (n: number) => {
      while (seen.length < n) await new Promise<void>((r) => (notify = r));
    };
    await until(1);
    await c.write('/backend/vbd/1/768/state', '1');
    await c.write('/frontend', 'not watched');
    await c.rm('/backend/vbd');
    await until(3);
    expect(seen).toEqual(['/backend be', '/backend/vbd/1/768/state be', '/backend/vbd be']);
    await handle.dispose();
    await c.write('/backend/x', '1');
    await c.read('/backend/x');
    await w.read('/backend/x');
    expect(seen).toHaveLength(3);
  });

  it('@introduceDomain reaches watchers; a guest may not fire it', async () => {
    await start();
    const xend = await client();
    const events: string[] = [];
    await xend.watch('@introduceDomain', 'intro', (p) => events.push(p));
    await xend.introduceDomain(3);
    await xend.read('/tool');
    expect(events).toEqual(['@introduceDomain', '@introduceDomain']);
    const guest = await client(3);
    expect(await errnoOf(guest.introduceDomain(4))).toBe('EACCES');
  });
});

describe('transactions over the socket', () => {
  it('concurrent read-modify-write transactions: one gets EAGAIN, the retry makes both count', async () => {
    await start();
    const [a, b, c] = [await client(), await client(), await client()];
    await c.write('/counter', '0');
    let attempts = 0;
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const increment = (cl: XenstoreClient) =>
      cl.transaction(async (tx) => {
        attempts++;
        const v = Number(await tx.read('/counter'));
        // First round: both read before either commits, so they must conflict.
        if (++arrived === 2) release();
        if (arrived <= 2) await bothRead;
        await tx.write('/counter', String(v + 1));
        return v + 1;
      });
    const results = await Promise.all([increment(a), increment(b)]);
    expect(await c.read('/counter')).toBe('2');
    expect(results.sort()).toEqual([1, 2]);
    expect(attempts).toBe(3);
  });

  it('a throwing body aborts, and EAGAIN beyond maxAttempts is thrown', async () => {
    await start();
    const c = await client();
    const other = await client();
    await expect(
      c.transaction(async (tx) => {
        await tx.write('/never', '1');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await c.exists('/never')).toBe(false);
    await c.write('/hot', '0');
    let n = 0;
    const err = await c
      .transaction(
        async (tx) => {
          await tx.read('/hot');
          await other.write('/hot', String(++n));
        },
        { maxAttempts: 3 },
      )
      .catch((e: unknown) => e);
    expect((err as XenstoreError).errno).toBe('EAGAIN');
    expect(n).toBe(3);
  });
});

describe('connection identity', () => {
  it('a connection acting as a guest meets its permissions', async () => {
    await start();
    const dom0 = await client();
    await dom0.mkdir('/local/domain/5');
    await dom0.setPerms('/local/domain/5', ['n5']);
    await dom0.write('/local/domain/0/secret', 's');
    const guest = await client(5);
    await guest.write('device/vif/0/state', '1');
    expect(await dom0.read('/local/domain/5/device/vif/0/state')).toBe('1');
    expect(await errnoOf(guest.read('/local/domain/0/secret'))).toBe('EACCES');
    expect(await errnoOf(guest.write('/local/domain/0/secret', 'x'))).toBe('EACCES');
    expect(await errnoOf(client(6).then((c) => c.read('/local/domain/5/device')))).toBe('EACCES');
  });

  it('set_target is refused to a connection that is already a guest', async () => {
    await start();
    const r = await raw();
    r.socket.write(`${JSON.stringify({ id: 1, op: 'set_target', args: { domid: 4 } })}\n`);
    expect(await r.next()).toEqual({ id: 1, ok: true });
    r.socket.write(`${JSON.stringify({ id: 2, op: 'set_target', args: { domid: 0 } })}\n`);
    expect(await r.next()).toMatchObject({ id: 2, error: 'EACCES' });
    r.socket.destroy();
  });
});

describe('malformed input', () => {
  it('a request that fails the schema gets EINVAL with its id and changes nothing', async () => {
    await start();
    const r = await raw();
    const bad = [
      { id: 1, op: 'write', args: { path: '/x' } },
      { id: 2, op: 'frobnicate', args: {} },
      { id: 3, op: 'read', args: { path: 42 } },
      { id: 4, op: 'write', args: { path: '/x', value: 'v', extra: true } },
      { op: 'read', args: { path: '/x' } },
    ];
    for (const b of bad) r.socket.write(`${JSON.stringify(b)}\n`);
    const replies = [];
    for (let i = 0; i < bad.length; i++) replies.push(await r.next());
    expect(replies.map((m) => [m.id, m.error])).toEqual([
      [1, 'EINVAL'],
      [2, 'EINVAL'],
      [3, 'EINVAL'],
      [4, 'EINVAL'],
      [null, 'EINVAL'],
    ]);
    r.socket.write(`${JSON.stringify({ id: 9, op: 'read', args: { path: '/x' } })}\n`);
    expect(await r.next()).toMatchObject({ id: 9, error: 'ENOENT' });
    r.socket.destroy();
  });

  it('garbage gets an error and the connection is closed; others carry on', async () => {
    await start();
    const good = await client();
    const r = await raw();
    r.socket.write('this is not json\n{"id":1,"op":"write","args":{"path":"/after","value":"x"}}\n');
    expect(await r.next()).toMatchObject({ id: null, error: 'EINVAL' });
    await r.closed;
    expect(r.lines).toHaveLength(1);
    expect(await good.exists('/after')).toBe(false);
    await good.write('/fine', '1');
  });

  it('a line over the cap closes the connection with E2BIG', async () => {
    await start({ maxLineBytes: 1024 });
    const r = await raw();
    r.socket.write(`{"id":1,"op":"write","args":{"path":"/big","value":"${'x'.repeat(4000)}"}}\n`);
    expect(await r.next()).toMatchObject({ id: null, error: 'E2BIG' });
    await r.closed;
    const c = await client();
    expect(await c.exists('/big')).toBe(false);
  });

  it('a client that does not read its replies is dropped; others are not stalled', async () => {
    await start({ maxOutboundBytes: 64 * 1024 });
    const c = await client();
    await c.write('/big', 'x'.repeat(4096));
    const r = await raw();
    r.socket.pause();
    const request = `${JSON.stringify({ id: 1, op: 'read', args: { path: '/big' } })}\n`;
    r.socket.write(request.repeat(2000));
    const started = Date.now();
    for (let i = 0; i < 50; i++) await c.write(`/busy/${i}`, String(i));
    expect(Date.now() - started).toBeLessThan(5000);
    await r.closed;
    expect(logs.some((l) => l.includes('unread'))).toBe(true);
  });
});
