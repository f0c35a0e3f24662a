// The perf store behind the Performance tab, the graph columns and the Host overview: ticks keep
// the last RECENT points of an unwatched domain and the whole hour of a watched one, a restart
// (new domid) starts again, watching loads the engine's history and merges the live ticks after
// it. End to end through the API layer with a fake engine (stats.sample events, stats.history).

import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { DomainTickData, StatsSampleEvent } from '../../renderer/src/api/stats.js';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { RECENT, usePerfStore } from '../../renderer/src/stores/perf.js';
import { fakeClient, installElectronBridge, row, settle } from './renderer-fakes.js';

function entry(name: string, domid: number, time: number, cpu: number): DomainTickData {
  return {
    time, cpu, hostCpu: cpu / 2, steal: 0, cpuTime: time / 1000, vcpuCpu: [cpu], memActual: 128, memUsed: 40,
    diskRd: 0, diskWr: 0, diskRdOps: 0, diskWrOps: 0, diskRdTotal: 0, diskWrTotal: 0, diskRdOpsTotal: 0, diskWrOpsTotal: 0,
    netRx: null, netTx: null, netRxTotal: null, netTxTotal: null,
    domid, name, status: 'running', vcpus: 1, memory: 128, maxmem: 128, nets: 1, vbds: 1,
  };
}

function tick(time: number, domains: DomainTickData[]): StatsSampleEvent {
  return { time, interval: 1, host: { time, cpu: 5, cpuTime: 100, memTotal: 1024, memUsed: 512, load: [0, 0, 0] }, domains };
}

beforeEach(() => {
  setActivePinia(createPinia());
});

describe('perf store', () => {
  it('keeps RECENT points of an unwatched domain, restarts on a new domid, and drops domains that left', () => {
    const perf = usePerfStore();
    for (let i = 0; i < RECENT + 10; i++) perf.addTick('local', tick(i * 1000, [entry('a', 3, i * 1000, i), entry('b', 4, i * 1000, 1)]));
    expect(perf.pointsOf('local', 'a')).toHaveLength(RECENT);
    expect(perf.pointsOf('local', 'a').at(-1)!.cpu).toBe(RECENT + 9);
    expect(perf.latestOf('local', 'a')!.maxmem).toBe(128);
    expect(perf.hostPoints('local').at(-1)!.memUsed).toBe(512);
    perf.addTick('local', tick(99_000, [entry('a', 7, 99_000, 50)]));
    expect(perf.pointsOf('local', 'a').map((p) => p.cpu)).toEqual([50]);
    expect(perf.pointsOf('local', 'b')).toEqual([]);
    expect(perf.domainNames('local')).toEqual(['a']);
  });

  it('returns a new array at each tick, so computeds that read it update', () => {
    const perf = usePerfStore();
    perf.addTick('local', tick(1000, [entry('a', 3, 1000, 1)]));
    const first = perf.pointsOf('local', 'a');
    perf.addTick('local', tick(2000, [entry('a', 3, 2000, 2)]));
    expect(perf.pointsOf('local', 'a')).not.toBe(first);
  });
});

describe('perf store through the API layer', () => {
  let previous: ClientFactory | undefined;
  let removeBridge: () => void = () => undefined;

  beforeEach(() => {
    removeBridge = installElectronBridge();
  });

  afterEach(() => {
    connectionCloseAll();
    if (previous) setClientFactory(previous);
    previous = undefined;
    removeBridge();
  });

  it('a watched domain gets the engine history first, then the live ticks after it, and keeps more than RECENT', async () => {
    const history = Array.from({ length: RECENT + 20 }, (_, i) => entry('vm1', 3, i * 1000, 10));
    const client = fakeClient({
      'domain.list': () => [row('Domain-0', { domid: 0, status: 'running' })],
      'stats.history': () => ({ interval: 1, host: [], domains: [{ name: 'vm1', domid: 3, points: history }] }),
    });
    previous = setClientFactory(async () => client.asClient());
    useConnectionsStore().start();
    await settle(20);
    const perf = usePerfStore();
    const unwatch = perf.watch('local', 'vm1');
    await settle(20);
    expect(client.calls.find((c) => c.method === 'stats.history')?.params).toMatchObject({ domains: ['vm1'], seconds: 3600 });
    // A tick older than the history's end is not duplicated; a newer one is appended.
    client.emit('stats.sample', tick(5000, [entry('vm1', 3, 5000, 99)]));
    client.emit('stats.sample', tick(1_000_000, [entry('vm1', 3, 1_000_000, 77)]));
    const points = perf.pointsOf('local', 'vm1');
    expect(points).toHaveLength(RECENT + 21);
    expect(points.at(-1)!.cpu).toBe(77);
    unwatch();
  });
});
