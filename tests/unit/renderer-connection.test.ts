// The renderer's engine connection: subscribe on every (re)connection, reconnect with backoff when
// the engine goes away, stop at a refused token, and calls that fail in plain words.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectError, RemoteError } from '../../engine/protocol/browser/index.js';
import {
  connectionCloseAll,
  connectionOpen,
  defaultBackoffMs,
  setClientFactory,
} from '../../renderer/src/api/connection.js';
import type { ClientFactory, LinkState } from '../../renderer/src/api/connection.js';
import { domainList, domainPause } from '../../renderer/src/api/domains.js';
import { MissingTokenError } from '../../renderer/src/api/endpoint.js';
import { EngineError } from '../../renderer/src/api/errors.js';
import { fakeClient, settle } from './renderer-fakes.js';
import type { FakeClient } from './renderer-fakes.js';

const endpoint = async () => ({ url: 'ws://127.0.0.1:9/engine', token: 'x'.repeat(20) });
let previous: ClientFactory;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  connectionCloseAll();
  if (previous) setClientFactory(previous);
  vi.useRealTimers();
});

/** Each connection attempt takes the next outcome: a fake client, or an error. */
function engine(outcomes: (FakeClient | Error)[]) {
  const attempts: string[] = [];
  previous = setClientFactory(async (ep) => {
    attempts.push(ep.url);
    const next = outcomes.shift();
    if (next === undefined) throw new ConnectError(ep.url, 'refused', 'nothing listens');
    if (next instanceof Error) throw next;
    return next.asClient();
  });
  return attempts;
}

function open(opts: Partial<Parameters<typeof connectionOpen>[0]> = {}) {
  const states: LinkState[] = [];
  const opened = vi.fn();
  const changed = vi.fn();
  const connection = connectionOpen({
    id: 'local',
    endpoint,
    onState: (s) => states.push(s),
    onOpen: opened,
    onDomainChanged: changed,
    ...opts,
  });
  return { connection, states, opened, changed };
}

describe('engine connection', () => {
  it('subscribes to domain and stats events, then reports open and forwards domain.changed', async () => {
    const client = fakeClient();
    engine([client]);
    const { states, opened, changed } = open();
    await settle();
    expect(client.subscribed).toEqual([['domain.*', 'stats.sample', 'storage.changed', 'network.changed', 'connection.changed']]);
    expect(states.map((s) => s.status)).toEqual(['connecting', 'open']);
    expect(opened).toHaveBeenCalledTimes(1);
    client.emit('domain.changed', { kind: 'started', name: 'vm1', domid: 3 });
    expect(changed).toHaveBeenCalledWith({ kind: 'started', name: 'vm1', domid: 3 });
  });

  it('forwards storage and network changes to onHostChanged (Host details re-reads)', async () => {
    const client = fakeClient();
    engine([client]);
    const host = vi.fn();
    open({ onHostChanged: host });
    await settle();
    client.emit('storage.changed', { pool: 'default' });
    client.emit('network.changed', { name: 'iso0' });
    expect(host).toHaveBeenCalledTimes(2);
  });

  it('subscribes to stats.sample (not stats.cpu, a subset of it) and forwards each tick', async () => {
    const client = fakeClient();
    engine([client]);
    const ticks = vi.fn();
    open({ onStatsSample: ticks });
    await settle();
    expect(client.subscribed.at(-1)).toContain('stats.sample');
    expect(client.subscribed.at(-1)).not.toContain('stats.cpu');
    const tick = { time: 1, interval: 1, host: { time: 1, cpu: 7.5, cpuTime: 1, memTotal: 1024, memUsed: 512, load: [0, 0, 0] as [number, number, number] }, domains: [] };
    client.emit('stats.sample', tick);
    expect(ticks).toHaveBeenCalledWith(tick);
  });

  it('reconnects after the engine goes away, and reports open again so views re-read', async () => {
    const first = fakeClient();
    const second = fakeClient();
    engine([first, second]);
    const { states, opened } = open();
    await settle();
    first.drop(new Error('closed with code 1006'));
    expect(states.at(-1)).toMatchObject({ status: 'retrying', everOpen: true, retryInMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(states.at(-1)?.status).toBe('open');
    expect(opened).toHaveBeenCalledTimes(2);
    expect(second.subscribed).toEqual([['domain.*', 'stats.sample', 'storage.changed', 'network.changed', 'connection.changed']]);
  });

  it('backs off 1, 2, 4, 8 s and then every 15 s while the engine cannot be reached', async () => {
    const attempts = engine([]);
    const { states } = open();
    await settle();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const last = states.at(-1)!;
      expect(last.status).toBe('retrying');
      expect(last.everOpen).toBe(false);
      delays.push(last.retryInMs!);
      await vi.advanceTimersByTimeAsync(last.retryInMs!);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);
    expect(attempts).toHaveLength(7);
    expect(defaultBackoffMs(100)).toBe(15_000);
  });

  it('stops at a refused token instead of retrying', async () => {
    const attempts = engine([new ConnectError('ws://x', 'unauthenticated', 'refused: Unauthenticated')]);
    const { states } = open();
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(states.at(-1)).toMatchObject({ status: 'unauthenticated', error: 'The engine refused the token.' });
    expect(attempts).toHaveLength(1);
  });

  it('asks for a token, without an error, when there is none', async () => {
    engine([fakeClient()]);
    const { states } = open({
      endpoint: async () => {
        throw new MissingTokenError();
      },
    });
    await settle();
    expect(states.at(-1)).toEqual({ status: 'unauthenticated', everOpen: false });
  });

  it('retries at once on request instead of waiting out the backoff', async () => {
    const client = fakeClient();
    engine([new ConnectError('ws://x', 'refused', 'nothing listens'), client]);
    const { connection, states } = open();
    await settle();
    expect(states.at(-1)?.status).toBe('retrying');
    connection.retryNow();
    await settle();
    expect(states.at(-1)?.status).toBe('open');
  });

  it('closes the client and never reconnects once stopped', async () => {
    const client = fakeClient();
    const attempts = engine([client]);
    const { connection, states } = open();
    await settle();
    connection.stop();
    expect(client.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(states.at(-1)?.status).toBe('stopped');
    expect(attempts).toHaveLength(1);
  });
});

describe('API calls', () => {
  it('fail at once with a plain NotConnected error while the connection is down', async () => {
    engine([]);
    open();
    await settle();
    const error = await domainList({ conn: 'local' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'NotConnected' });
    expect((error as Error).message).toMatch(/Not connected to the engine/);
  });

  it('pass the engine’s error message through as it is, with its code', async () => {
    const client = fakeClient({
      'domain.pause': () => {
        throw new RemoteError('InvalidState', "Domain 'vm1' is not running.", undefined, 'domain.pause');
      },
    });
    engine([client]);
    open();
    await settle();
    const error = await domainPause({ conn: 'local', ref: 'vm1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidState', message: "Domain 'vm1' is not running." });
    expect(client.calls).toEqual([{ method: 'domain.pause', params: { ref: 'vm1' } }]);
  });
});
