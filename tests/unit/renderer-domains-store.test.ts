// The manager's stores against a fake engine, a fresh Pinia per test: rows come from domain.list
// re-read on events (bursts coalesced, never polled), sorting, filtering, selection, and the
// lifecycle actions asking the engine only what each domain's state allows.

import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { DomainRow } from '../../renderer/src/api/types.js';
import { LOCAL_CONNECTION_NAME, useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { useDomainConfigStore } from '../../renderer/src/stores/domainConfig.js';
import { useDomainsStore } from '../../renderer/src/stores/domains.js';
import { deferred, fakeClient, installElectronBridge, row, runningRow, settle } from './renderer-fakes.js';
import type { FakeClient } from './renderer-fakes.js';

let previous: ClientFactory | undefined;
let removeBridge: () => void = () => undefined;

beforeEach(() => {
  setActivePinia(createPinia());
  removeBridge = installElectronBridge();
});

afterEach(() => {
  connectionCloseAll();
  if (previous) setClientFactory(previous);
  previous = undefined;
  removeBridge();
  vi.useRealTimers();
});

/** Starts the stores against an engine that lists `rows` (or what `list` answers). */
async function startWith(rowsOrList: DomainRow[] | (() => unknown), more: Record<string, (p: unknown) => unknown> = {}) {
  const client = fakeClient({
    'domain.list': typeof rowsOrList === 'function' ? rowsOrList : () => rowsOrList,
    ...more,
  });
  const clients: FakeClient[] = [client];
  previous = setClientFactory(async () => {
    const next = clients.shift();
    if (next === undefined) throw new Error('engine down');
    return next.asClient();
  });
  const connections = useConnectionsStore();
  const domains = useDomainsStore();
  connections.start();
  await settle(20);
  return { client, clients, connections, domains };
}

const names = (rows: readonly { name: string }[] | undefined) => (rows ?? []).map((r) => r.name);
const local = (name: string) => ({ conn: 'local', name });

describe('domains store', () => {
  it('lists the local connection first, named localhost (Dom0), with its domains by name in natural order', async () => {
    const { connections, domains } = await startWith([row('vm10'), row('vm2'), row('Domain-0', { domid: 0, status: 'running' }), row('alpha')]);
    expect(connections.connections.map((c) => [c.name, c.status])).toEqual([[LOCAL_CONNECTION_NAME, 'open']]);
    expect(names(domains.visibleByConn.local)).toEqual(['alpha', 'Domain-0', 'vm2', 'vm10']);
  });

  it('sorts by a column, and a second click on it reverses; ties go by name', async () => {
    const { domains } = await startWith([row('c', { memory: 512 }), row('a', { memory: 1024 }), row('b', { memory: 512 })]);
    domains.sortBy('memory');
    expect(names(domains.visibleByConn.local)).toEqual(['b', 'c', 'a']);
    expect(domains.sort).toEqual({ column: 'memory', direction: 'ascending' });
    domains.sortBy('memory');
    expect(names(domains.visibleByConn.local)).toEqual(['a', 'c', 'b']);
    expect(domains.sort.direction).toBe('descending');
  });

  it('sorts by state with running domains first', async () => {
    const { domains } = await startWith([row('off'), runningRow('on', 2), row('nap', { status: 'paused', domid: 3 }), row('bad', { status: 'crashed', domid: 4 })]);
    domains.sortBy('state');
    expect(names(domains.visibleByConn.local)).toEqual(['on', 'nap', 'bad', 'off']);
  });

  it('filters by name regardless of case, and hidden rows leave the selection', async () => {
    const { domains } = await startWith([row('web1'), row('Web2'), row('db1')]);
    domains.select(local('db1'));
    domains.select(local('web1'), 'toggle');
    domains.setFilter('WEB');
    expect(names(domains.visibleByConn.local)).toEqual(['web1', 'Web2']);
    expect(domains.selection).toEqual([local('web1')]);
  });

  it('selects one row on click, toggles on Ctrl-click, and takes the range on Shift-click', async () => {
    const { domains } = await startWith(['a', 'b', 'c', 'd', 'e'].map((n) => row(n)));
    domains.select(local('b'));
    expect(domains.selection).toEqual([local('b')]);
    domains.select(local('d'), 'range');
    expect(domains.selection).toEqual([local('b'), local('c'), local('d')]);
    domains.select(local('c'), 'toggle');
    expect(domains.selection).toEqual([local('b'), local('d')]);
    // Ctrl-click moved the anchor to c: Shift-click now ranges from there.
    domains.select(local('a'), 'range');
    expect(domains.selection).toEqual([local('a'), local('b'), local('c')]);
    domains.select(local('e'));
    expect(domains.selection).toEqual([local('e')]);
  });

  it('ranges follow the order on screen', async () => {
    const { domains } = await startWith([row('a', { vcpus: 3 }), row('b', { vcpus: 1 }), row('c', { vcpus: 2 })]);
    domains.sortBy('vcpus');
    domains.select(local('b'));
    domains.select(local('c'), 'range');
    expect(domains.selection).toEqual([local('b'), local('c')]);
  });

  it('state is read-only outside the store’s mutators', async () => {
    const { domains } = await startWith([row('a')]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    (domains.selection as unknown as { push(x: unknown): void }).push(local('a'));
    expect(domains.selection).toEqual([]);
    warn.mockRestore();
  });

  it('re-reads domain.list on each domain.changed, coalescing a burst into one read after the one in flight', async () => {
    const answers = [deferred<DomainRow[]>(), deferred<DomainRow[]>(), deferred<DomainRow[]>()];
    let n = 0;
    const { client, domains } = await startWith(() => answers[n++]!.promise);
    expect(client.count('domain.list')).toBe(1);
    answers[0]!.resolve([row('vm1')]);
    await settle();
    expect(names(domains.visibleByConn.local)).toEqual(['vm1']);

    // A burst: one read goes out, the other events only mark one more read after it.
    for (const kind of ['started', 'paused', 'unpaused', 'memory', 'vcpus']) client.emit('domain.changed', { kind, name: 'vm1' });
    await settle();
    expect(client.count('domain.list')).toBe(2);
    answers[1]!.resolve([runningRow('vm1', 1)]);
    await settle();
    expect(client.count('domain.list')).toBe(3);
    answers[2]!.resolve([row('vm1', { status: 'paused', domid: 1 })]);
    await settle();
    expect(client.count('domain.list')).toBe(3);
    expect(domains.rowOf(local('vm1'))?.status).toBe('paused');
  });

  it('never polls: without events, domain.list is not read again', async () => {
    vi.useFakeTimers();
    const { client } = await startWith([row('vm1')]);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(client.count('domain.list')).toBe(1);
  });

  it('re-reads everything when the connection comes back', async () => {
    vi.useFakeTimers();
    const { client, clients, domains, connections } = await startWith([row('vm1')]);
    const after = fakeClient({ 'domain.list': () => [row('vm1'), row('vm2')] });
    clients.push(after);
    client.drop(new Error('closed with code 1006'));
    expect(connections.local?.status).toBe('retrying');
    expect(connections.local?.everOpen).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    await settle(20);
    expect(connections.local?.status).toBe('open');
    expect(after.count('domain.list')).toBe(1);
    expect(names(domains.visibleByConn.local)).toEqual(['vm1', 'vm2']);
  });

  it('drops a selected domain that is no longer listed', async () => {
    let rows = [row('a'), row('b')];
    const { client, domains } = await startWith(() => rows);
    domains.select(local('a'));
    domains.select(local('b'), 'toggle');
    rows = [row('b')];
    client.emit('domain.changed', { kind: 'undefined', name: 'a' });
    await settle();
    expect(domains.selection).toEqual([local('b')]);
  });

  it('asks the engine only for the selected domains whose state allows the action', async () => {
    const { client, domains } = await startWith([runningRow('a', 1), row('b'), runningRow('c', 2)], {
      'domain.pause': () => null,
    });
    domains.selectAll();
    expect(domains.available.pause).toBe(true);
    expect(domains.available.open).toBe(false);
    const failures = await domains.perform('pause');
    expect(failures).toEqual([]);
    expect(client.calls.filter((c) => c.method === 'domain.pause').map((c) => c.params)).toEqual([{ ref: 'a' }, { ref: 'c' }]);
  });

  it('maps each action to its engine call', async () => {
    const seen: [string, unknown][] = [];
    const record = (method: string) => (params: unknown) => {
      seen.push([method, params]);
      return null;
    };
    const { domains } = await startWith([runningRow('r', 1), row('h')], {
      'domain.start': () => ({ name: 'h', domid: 9 }),
      'domain.shutdown': record('domain.shutdown'),
      'domain.destroy': record('domain.destroy'),
      'domain.reset': record('domain.reset'),
    });
    await domains.perform('run', [local('h')]);
    await domains.perform('reboot', [local('r')]);
    await domains.perform('shutdown', [local('r')]);
    await domains.perform('destroy', [local('r')]);
    await domains.perform('reset', [local('r')]);
    expect(seen).toEqual([
      ['domain.shutdown', { ref: 'r', reboot: true }],
      ['domain.shutdown', { ref: 'r', reboot: false }],
      ['domain.destroy', { ref: 'r' }],
      ['domain.reset', { ref: 'r' }],
    ]);
  });

  it('reports failures with the engine’s own words', async () => {
    const { domains } = await startWith([runningRow('a', 1)], {
      'domain.shutdown': () => {
        throw new RemoteError('InvalidState', "Domain 'a' is already shutting down.");
      },
    });
    const failures = await domains.perform('shutdown', [local('a')]);
    expect(failures).toEqual([{ conn: 'local', name: 'a', message: "Domain 'a' is already shutting down." }]);
  });

  it('deletes with force and the chosen disk images, and forgets the selection', async () => {
    const { client, domains } = await startWith([runningRow('a', 1)], {
      'domain.delete': (p) => ({ deleted: (p as { storage: string[] }).storage }),
    });
    domains.select(local('a'));
    const result = await domains.deleteDomain({ conn: 'local', name: 'a', storage: ['/img/a.qcow2'] });
    expect(result).toEqual({ deleted: ['/img/a.qcow2'] });
    expect(client.calls.find((c) => c.method === 'domain.delete')?.params).toEqual({ name: 'a', storage: ['/img/a.qcow2'], force: true });
    expect(domains.selection).toEqual([]);
  });
});

describe('domain config store', () => {
  it('shares one domain.getConfig between callers and keeps the error in words', async () => {
    let calls = 0;
    const { client } = await startWith([row('a')], {
      'domain.getConfig': () => {
        calls++;
        throw new RemoteError('NoSuchDomain', "Domain 'a' does not exist.");
      },
    });
    const configs = useDomainConfigStore();
    const [one, two] = await Promise.all([configs.load(local('a')), configs.load(local('a'))]);
    expect([one, two]).toEqual([undefined, undefined]);
    expect(calls).toBe(1);
    expect(configs.entryOf(local('a'))).toMatchObject({ loading: false, error: "Domain 'a' does not exist." });
    expect(client.count('domain.getConfig')).toBe(1);
  });

  it('sends only the given changes and re-reads the config and the list after', async () => {
    const { client } = await startWith([row('a')], {
      'domain.update': () => ({ live: ['memory'], nextBoot: [], path: '/cfg/a.cfg' }),
      'domain.getConfig': () => ({ text: 'name = "a"\n', path: '/cfg/a.cfg', qemu: '-name a', config: {} }),
    });
    const result = await useDomainConfigStore().update(local('a'), { memory: 192 });
    expect(result.path).toBe('/cfg/a.cfg');
    expect(client.calls.find((c) => c.method === 'domain.update')?.params).toEqual({ name: 'a', changes: { memory: 192 } });
    await settle();
    expect(client.count('domain.getConfig')).toBe(1);
    expect(client.count('domain.list')).toBe(2);
  });
});
