// Main's unix-socket conversations with xend, against a real protocol server on a socket in a
// temporary directory that answers xend's API with canned data.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Handlers } from '../../engine/protocol/common/define.js';
import { xendEvents, xendMethods, type DomainRow, type XendMethods } from '../../engine/protocol/common/xend-api.js';
import { ProtocolServer } from '../../engine/protocol/node/server.js';
import { listenUnix, type UnixListener } from '../../engine/protocol/node/unix-server.js';
import { connectXend, shutdownAllDomains, watchRunningDomains, type DomainListClient, type DomainWatch } from '../../main/xend-client.js';

const row = (name: string, domid: number | undefined, status: DomainRow['status']): DomainRow => ({
  name,
  domid,
  status,
  state: '------',
  memory: 128,
  maxmem: 128,
  vcpus: 1,
  cpuTime: 0,
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface FakeXend {
  socket: string;
  rows: DomainRow[];
  shutdownAllParams: unknown[];
  server: ProtocolServer<XendMethods, typeof xendEvents>;
  listener: UnixListener;
}

async function fakeXend(): Promise<FakeXend> {
  const dir = mkdtempSync(join(tmpdir(), 'dom0-sock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const state = {
    rows: [row('Domain-0', 0, 'running')],
    shutdownAllParams: [] as unknown[],
  };
  // Answers the methods main calls; every other method refuses (the server wants one handler each).
  const refuse = (name: string) => () => {
    throw new Error(`${name} is not part of this test`);
  };
  const handlers = {
    ...Object.fromEntries(Object.keys(xendMethods).map((name) => [name, refuse(name)])),
    'domain.list': () => state.rows,
    'domain.shutdownAll': (params: unknown) => (state.shutdownAllParams.push(params), ['web1']),
  } as unknown as Handlers<XendMethods>;
  const server = new ProtocolServer({ methods: xendMethods, handlers, events: xendEvents, log: { warn: () => undefined, error: () => undefined } });
  const socket = join(dir, 'xend.sock');
  const fake = Object.assign(state, {
    socket,
    server,
    listener: await listenUnix(socket, server),
  });
  cleanups.push(() => fake.listener.close());
  return fake;
}

function watch(socket: string, counts: (number | undefined)[]): DomainWatch {
  const w = watchRunningDomains({ connect: () => connectXend(socket), onCount: (n) => counts.push(n), retryMs: 20 });
  cleanups.push(() => w.dispose());
  return w;
}

describe('watchRunningDomains', () => {
  it('counts the domains that are on, Domain-0 and halted ones aside, and follows domain.changed', async () => {
    const xend = await fakeXend();
    xend.rows.push(row('web1', 1, 'running'), row('db', 2, 'paused'), row('old', undefined, 'halted'));
    const counts: (number | undefined)[] = [];
    const w = watch(xend.socket, counts);
    await vi.waitFor(() => expect(w.count).toBe(2));
    xend.rows.splice(1, 1);
    xend.server.broadcast('domain.changed', { kind: 'shutdown', name: 'web1' });
    await vi.waitFor(() => expect(w.count).toBe(1));
    expect(counts).toEqual([2, 1]);
  });

  it('says undefined while no xend answers and reconnects when one comes back', async () => {
    const xend = await fakeXend();
    xend.rows.push(row('web1', 1, 'running'));
    const counts: (number | undefined)[] = [];
    const w = watch(xend.socket, counts);
    await vi.waitFor(() => expect(w.count).toBe(1));
    await xend.listener.close();
    await vi.waitFor(() => expect(w.count).toBeUndefined());
    xend.rows.push(row('web2', 2, 'running'));
    xend.listener = await listenUnix(xend.socket, xend.server);
    await vi.waitFor(() => expect(w.count).toBe(2));
    expect(counts).toEqual([1, undefined, 2]);
  });

  it('keeps retrying when there is no socket yet, and stops when disposed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dom0-sock-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const connect = vi.fn(() => connectXend(join(dir, 'xend.sock')));
    const counts: (number | undefined)[] = [];
    const w = watchRunningDomains({ connect, onCount: (n) => counts.push(n), retryMs: 10 });
    await vi.waitFor(() => expect(connect.mock.calls.length).toBeGreaterThanOrEqual(3));
    expect(w.count).toBeUndefined();
    expect(counts).toEqual([]);
    w.dispose();
    const calls = connect.mock.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(connect.mock.calls.length).toBe(calls);
  });

  it('coalesces a burst of events into few reads', async () => {
    let list!: () => void;
    let resolveRead!: (rows: DomainRow[]) => void;
    const calls: string[] = [];
    const client: DomainListClient = {
      call: () => {
        calls.push('domain.list');
        return new Promise((resolve) => (resolveRead = resolve));
      },
      subscribe: async (topics) => calls.push(`subscribe ${topics.join()}`),
      on: (_event, handler) => ((list = handler), { dispose: () => undefined }),
      onClose: () => ({ dispose: () => undefined }),
      close: () => undefined,
    };
    const counts: (number | undefined)[] = [];
    const w = watchRunningDomains({ connect: async () => client, onCount: (n) => counts.push(n) });
    cleanups.push(() => w.dispose());
    await vi.waitFor(() => expect(calls).toEqual(['subscribe domain.*', 'domain.list']));
    for (let i = 0; i < 10; i++) list();
    resolveRead([row('a', 1, 'running')]);
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    resolveRead([row('a', 1, 'running'), row('b', 2, 'running')]);
    await vi.waitFor(() => expect(counts).toEqual([1, 2]));
    expect(calls).toHaveLength(3);
  });
});

describe('shutdownAllDomains', () => {
  it('asks xend to shut every domain down and wait up to a minute', async () => {
    const xend = await fakeXend();
    await expect(shutdownAllDomains(xend.socket)).resolves.toEqual(['web1']);
    expect(xend.shutdownAllParams).toEqual([{ reboot: false, wait: true, timeoutMs: 60_000 }]);
    await vi.waitFor(() => expect(xend.listener.connectionCount).toBe(0));
  });

  it('fails with the connect error when no xend runs', async () => {
    await expect(shutdownAllDomains(join(tmpdir(), 'dom0-none', 'xend.sock'))).rejects.toThrow(/no engine is running/);
  });
});
