// The stats store behind the manager's CPU sparklines, a fresh Pinia per test: the last 40
// samples per (connection, domain), Domain-0 fed by the host value, a restart (new domid) starting
// the line again, and domains leaving the list dropped. Also end to end through the API layer with
// a fake engine: the CPU figures of the stats.sample ticks pushed by the engine reach the store, no
// polling.

import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { StatsSampleEvent } from '../../renderer/src/api/stats.js';
import type { CpuStatsEvent } from '../../renderer/src/api/types.js';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { useDomainsStore } from '../../renderer/src/stores/domains.js';
import { CPU_HISTORY, useStatsStore } from '../../renderer/src/stores/stats.js';
import { fakeClient, installElectronBridge, row, runningRow, settle } from './renderer-fakes.js';

function sample(host: number, domains: { domid: number; name: string; cpu: number }[] = [], time = Date.now()): CpuStatsEvent {
  return { time, host, domains };
}

/** A stats.sample tick with these CPU figures (the other figures do not matter here). */
function tick(host: number, domains: { domid: number; name: string; cpu: number; cpuTime?: number }[], time = Date.now()): StatsSampleEvent {
  return {
    time,
    interval: 1,
    host: { time, cpu: host, cpuTime: 100, memTotal: 1024, memUsed: 512, load: [0, 0, 0] },
    domains: domains.map(({ domid, name, cpu, cpuTime = 1 }) => ({
      time, cpu, hostCpu: cpu / 2, steal: 0, cpuTime, vcpuCpu: [cpu], memActual: 128, memUsed: 40,
      diskRd: 0, diskWr: 0, diskRdOps: 0, diskWrOps: 0, diskRdTotal: 0, diskWrTotal: 0, diskRdOpsTotal: 0, diskWrOpsTotal: 0,
      netRx: null, netTx: null, netRxTotal: null, netTxTotal: null,
      domid, name, status: 'running' as const, vcpus: 1, memory: 128, maxmem: 128, nets: 1, vbds: 1,
    })),
  };
}

beforeEach(() => {
  setActivePinia(createPinia());
});

describe('stats store', () => {
  it('keeps at most the last 40 samples per domain, oldest first', () => {
    const stats = useStatsStore();
    expect(CPU_HISTORY).toBe(40);
    for (let i = 0; i < 55; i++) stats.addSample('local', sample(1, [{ domid: 3, name: 'vm1', cpu: i }]));
    const samples = stats.samplesOf('local', 'vm1');
    expect(samples).toHaveLength(40);
    expect(samples[0]).toBe(15);
    expect(samples.at(-1)).toBe(54);
    expect(stats.latestOf('local', 'vm1')).toBe(54);
    expect(stats.samplesOf('local', 'Domain-0')).toHaveLength(40);
  });

  it('maps the host value to Domain-0 and keeps connections apart', () => {
    const stats = useStatsStore();
    stats.addSample('local', sample(12.5, [{ domid: 2, name: 'web', cpu: 80 }]));
    stats.addSample('local', sample(30, [{ domid: 2, name: 'web', cpu: 70 }]));
    stats.addSample('remote-1', sample(99, [{ domid: 2, name: 'web', cpu: 5 }]));
    expect(stats.samplesOf('local', 'Domain-0')).toEqual([12.5, 30]);
    expect(stats.cpu.local?.['Domain-0']?.domid).toBe(0);
    expect(stats.samplesOf('local', 'web')).toEqual([80, 70]);
    expect(stats.samplesOf('remote-1', 'Domain-0')).toEqual([99]);
    expect(stats.samplesOf('remote-1', 'web')).toEqual([5]);
    expect(stats.samplesOf('local', 'nothing')).toEqual([]);
    expect(stats.latestOf('local', 'nothing')).toBeUndefined();
  });

  it('takes Domain-0 from host even if the sample lists it among the domains, and clamps to 0–100', () => {
    const stats = useStatsStore();
    stats.addSample('local', sample(4, [{ domid: 0, name: 'Domain-0', cpu: 77 }, { domid: 5, name: 'hot', cpu: 140 }]));
    stats.addSample('local', sample(-3, [{ domid: 5, name: 'hot', cpu: Number.NaN }]));
    expect(stats.samplesOf('local', 'Domain-0')).toEqual([4, 0]);
    expect(stats.samplesOf('local', 'hot')).toEqual([100, 0]);
  });

  it('starts the line again when the domain id changes (a restart)', () => {
    const stats = useStatsStore();
    stats.addSample('local', sample(1, [{ domid: 3, name: 'vm1', cpu: 10 }]));
    stats.addSample('local', sample(1, [{ domid: 3, name: 'vm1', cpu: 20 }]));
    stats.addSample('local', sample(1, [{ domid: 4, name: 'vm1', cpu: 5 }]));
    expect(stats.samplesOf('local', 'vm1')).toEqual([5]);
    expect(stats.cpu.local?.vm1?.domid).toBe(4);
    // The list can tell first: a row with another domid drops the old run's samples.
    stats.addSample('local', sample(1, [{ domid: 4, name: 'vm1', cpu: 6 }]));
    stats.syncRows('local', [row('Domain-0', { domid: 0, status: 'running' }), runningRow('vm1', 9)]);
    expect(stats.samplesOf('local', 'vm1')).toEqual([]);
    expect(stats.samplesOf('local', 'Domain-0')).toHaveLength(4);
  });

  it('drops domains that left the list or stopped running, and only on that connection', () => {
    const stats = useStatsStore();
    const domains = [
      { domid: 3, name: 'gone', cpu: 1 },
      { domid: 4, name: 'stopped', cpu: 2 },
      { domid: 5, name: 'kept', cpu: 3 },
    ];
    stats.addSample('local', sample(1, domains));
    stats.addSample('other', sample(1, domains));
    stats.syncRows('local', [row('Domain-0', { domid: 0, status: 'running' }), row('stopped'), runningRow('kept', 5)]);
    expect(Object.keys(stats.cpu.local ?? {}).sort()).toEqual(['Domain-0', 'kept']);
    expect(stats.samplesOf('local', 'gone')).toEqual([]);
    expect(stats.samplesOf('local', 'stopped')).toEqual([]);
    expect(stats.samplesOf('local', 'kept')).toEqual([3]);
    expect(Object.keys(stats.cpu.other ?? {}).sort()).toEqual(['Domain-0', 'gone', 'kept', 'stopped']);
    stats.forgetConnection('other');
    expect(stats.cpu.other).toBeUndefined();
  });
});

describe('stats through the API layer', () => {
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

  it('subscribes to stats.sample, feeds the CPU figures of its ticks into the store, and a refreshed list drops vanished domains', async () => {
    let rows = [row('Domain-0', { domid: 0, status: 'running' }), runningRow('vm1', 3), runningRow('vm2', 4)];
    const client = fakeClient({ 'domain.list': () => rows });
    previous = setClientFactory(async () => client.asClient());
    useConnectionsStore().start();
    const domains = useDomainsStore();
    const stats = useStatsStore();
    await settle(20);
    expect(client.subscribed).toEqual([['domain.*', 'stats.sample', 'storage.changed', 'network.changed', 'connection.changed']]);

    client.emit('stats.sample', tick(8, [{ domid: 3, name: 'vm1', cpu: 25 }, { domid: 4, name: 'vm2', cpu: 50 }]));
    client.emit('stats.sample', tick(9, [{ domid: 3, name: 'vm1', cpu: 26 }, { domid: 4, name: 'vm2', cpu: 51 }]));
    expect(stats.samplesOf('local', 'Domain-0')).toEqual([8, 9]);
    expect(stats.samplesOf('local', 'vm1')).toEqual([25, 26]);
    expect(stats.samplesOf('local', 'vm2')).toEqual([50, 51]);
    // Nothing asks the engine for samples.
    expect(client.calls.map((c) => c.method).filter((m) => !m.startsWith('connection.'))).toEqual(['domain.list']);

    rows = [row('Domain-0', { domid: 0, status: 'running' }), runningRow('vm1', 3)];
    client.emit('domain.changed', { kind: 'undefined', name: 'vm2' });
    await settle(20);
    expect(domains.rowOf({ conn: 'local', name: 'vm2' })).toBeUndefined();
    expect(stats.samplesOf('local', 'vm2')).toEqual([]);
    expect(stats.samplesOf('local', 'vm1')).toEqual([25, 26]);
  });
});

describe('CPU time of the manager list', () => {
  it("follows each tick for the run it was read from, not the last domain.list", () => {
    const stats = useStatsStore();
    expect(stats.cpuTimeOf('local', 'web', 3)).toBeUndefined();
    stats.addTick('local', tick(5, [{ domid: 3, name: 'web', cpu: 10, cpuTime: 6.6 }]));
    expect(stats.cpuTimeOf('local', 'web', 3)).toBe(6.6);
    stats.addTick('local', tick(5, [{ domid: 3, name: 'web', cpu: 10, cpuTime: 14.9 }]));
    expect(stats.cpuTimeOf('local', 'web', 3)).toBe(14.9);
    // Another run of the domain (a new id): the old figure is not its.
    expect(stats.cpuTimeOf('local', 'web', 4)).toBeUndefined();
    // Stopped: no longer in the ticks.
    stats.addTick('local', tick(5, []));
    expect(stats.cpuTimeOf('local', 'web', 3)).toBeUndefined();
  });
});
