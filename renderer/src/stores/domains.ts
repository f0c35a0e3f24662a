// Domains of every connection, as the manager window shows them: rows per connection (the last
// domain.list answer), the selection, the sort and the name filter. Data flows one way: an engine
// event (or a (re)connection) → refresh() re-reads domain.list → setRows(). Bursts of events are
// coalesced: at most one domain.list in flight per connection and one more pending after it.
// Lifecycle actions only ask the engine; the rows change when its events say so.

import { defineStore } from 'pinia';
import { computed, readonly, ref } from 'vue';
import {
  domainClone,
  domainDelete,
  domainManagedSave,
  domainDestroy,
  domainList,
  domainPause,
  domainReset,
  domainShutdown,
  domainStart,
  domainUnpause,
} from '../api/index.js';
import type { DomainChangedEvent, DomainDeleteResult, DomainRow } from '../api/index.js';
import { availability, statusRank, targetsOf } from '../model/domain-state.js';
import type { ActionTarget, Availability, DomainAction } from '../model/domain-state.js';
import { errorText } from '../model/format.js';
import { useConnectionsStore } from './connections.js';
import { useStatsStore } from './stats.js';

export type SortColumn = 'name' | 'state' | 'memory' | 'vcpus' | 'cpuTime';
export type SortDirection = 'ascending' | 'descending';

export interface DomainRef {
  conn: string;
  name: string;
}

export interface DomainEntry extends DomainRef, ActionTarget {
  row: DomainRow;
}

/** Actions that are one engine call per domain (Open and Delete are dialogs/views). */
export type LifecycleAction = Exclude<DomainAction, 'open' | 'delete'>;

export interface ActionFailure extends DomainRef {
  message: string;
}

/** How a click picks rows: plain click, Ctrl/Cmd-click, Shift-click. */
export type SelectMode = 'only' | 'toggle' | 'range';

export function sameDomain(a: DomainRef, b: DomainRef): boolean {
  return a.conn === b.conn && a.name === b.name;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareRows(column: SortColumn, a: DomainRow, b: DomainRow): number {
  const byName = collator.compare(a.name, b.name);
  let primary = 0;
  switch (column) {
    case 'name':
      return byName;
    case 'state':
      primary = statusRank(a.status) - statusRank(b.status);
      break;
    case 'memory':
      primary = a.memory - b.memory;
      break;
    case 'vcpus':
      primary = a.vcpus - b.vcpus;
      break;
    case 'cpuTime':
      primary = a.cpuTime - b.cpuTime;
      break;
  }
  return primary !== 0 ? primary : byName;
}

export function sortRows(rows: readonly DomainRow[], column: SortColumn, direction: SortDirection): DomainRow[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => sign * compareRows(column, a, b));
}

export function filterRows(rows: readonly DomainRow[], filter: string): DomainRow[] {
  const needle = filter.trim().toLowerCase();
  return needle === '' ? [...rows] : rows.filter((r) => r.name.toLowerCase().includes(needle));
}

export const useDomainsStore = defineStore('domains', () => {
  const rowsByConn = ref<Record<string, DomainRow[]>>({});
  /** Why the last domain.list of a connection failed (cleared by the next success). */
  const listErrors = ref<Record<string, string>>({});
  const loadedConns = ref<string[]>([]);
  const selection = ref<DomainRef[]>([]);
  /** Where a Shift-click range starts: the last row clicked without Shift. */
  const anchor = ref<DomainRef | null>(null);
  const sort = ref<{ column: SortColumn; direction: SortDirection }>({ column: 'name', direction: 'ascending' });
  const filter = ref('');

  // Getters.

  /** Each connection's rows after the filter and the sort. */
  const visibleByConn = computed<Record<string, DomainRow[]>>(() => {
    const out: Record<string, DomainRow[]> = {};
    for (const [conn, rows] of Object.entries(rowsByConn.value)) {
      out[conn] = sortRows(filterRows(rows, filter.value), sort.value.column, sort.value.direction);
    }
    return out;
  });

  /** Every visible row, connection by connection in the connections' order: the order of ranges. */
  const visibleOrder = computed<DomainRef[]>(() => {
    const order = useConnectionsStore().connections.map((c) => c.id);
    for (const conn of Object.keys(visibleByConn.value)) if (!order.includes(conn)) order.push(conn);
    return order.flatMap((conn) => (visibleByConn.value[conn] ?? []).map((row) => ({ conn, name: row.name })));
  });

  function rowOf(target: DomainRef): DomainRow | undefined {
    return rowsByConn.value[target.conn]?.find((r) => r.name === target.name);
  }

  /** The host's memory and CPUs on a connection (its Domain-0 row), once the list is read. */
  function hostLimitsOf(conn: string): { memoryMiB: number; cpus: number } | undefined {
    const host = rowsByConn.value[conn]?.find((r) => r.domid === 0);
    return host === undefined ? undefined : { memoryMiB: host.memory, cpus: host.vcpus };
  }

  function isSelected(target: DomainRef): boolean {
    return selection.value.some((s) => sameDomain(s, target));
  }

  function isLoaded(conn: string): boolean {
    return loadedConns.value.includes(conn);
  }

  function entriesOf(refs: readonly DomainRef[]): DomainEntry[] {
    const connections = useConnectionsStore();
    const out: DomainEntry[] = [];
    for (const target of refs) {
      const row = rowOf(target);
      if (row !== undefined) out.push({ conn: target.conn, name: target.name, row, connected: connections.isOpen(target.conn) });
    }
    return out;
  }

  const selectedEntries = computed<DomainEntry[]>(() => entriesOf(selection.value));

  /** What the toolbar and the context menu enable for the selection. */
  const available = computed<Availability>(() => availability(selectedEntries.value));

  // Mutators.

  function setRows(conn: string, rows: DomainRow[]): void {
    rowsByConn.value[conn] = rows;
    if (!loadedConns.value.includes(conn)) loadedConns.value.push(conn);
    const keep = (target: DomainRef) => target.conn !== conn || rows.some((r) => r.name === target.name);
    selection.value = selection.value.filter(keep);
    if (anchor.value !== null && !keep(anchor.value)) anchor.value = null;
    // CPU lines of domains that left the list, stopped or restarted go too.
    useStatsStore().syncRows(conn, rows);
  }

  function setListError(conn: string, message: string | undefined): void {
    if (message === undefined) delete listErrors.value[conn];
    else listErrors.value[conn] = message;
  }

  function forgetConnection(conn: string): void {
    loads.delete(conn);
    delete rowsByConn.value[conn];
    delete listErrors.value[conn];
    loadedConns.value = loadedConns.value.filter((c) => c !== conn);
    selection.value = selection.value.filter((s) => s.conn !== conn);
    if (anchor.value?.conn === conn) anchor.value = null;
  }

  function setFilter(text: string): void {
    filter.value = text;
    // Actions apply to what the user sees: hidden rows leave the selection.
    const shown = visibleOrder.value;
    selection.value = selection.value.filter((s) => shown.some((v) => sameDomain(v, s)));
    if (anchor.value !== null && !shown.some((v) => sameDomain(v, anchor.value!))) anchor.value = null;
  }

  /** A click on a column header: sort by it ascending, or flip the direction if it already sorts. */
  function sortBy(column: SortColumn): void {
    if (sort.value.column === column) {
      sort.value = { column, direction: sort.value.direction === 'ascending' ? 'descending' : 'ascending' };
    } else {
      sort.value = { column, direction: 'ascending' };
    }
  }

  function select(target: DomainRef, mode: SelectMode = 'only'): void {
    const item = { conn: target.conn, name: target.name };
    if (mode === 'toggle') {
      selection.value = isSelected(item) ? selection.value.filter((s) => !sameDomain(s, item)) : [...selection.value, item];
      anchor.value = item;
      return;
    }
    if (mode === 'range' && anchor.value !== null) {
      const order = visibleOrder.value;
      const from = order.findIndex((r) => sameDomain(r, anchor.value!));
      const to = order.findIndex((r) => sameDomain(r, item));
      if (from >= 0 && to >= 0) {
        selection.value = order.slice(Math.min(from, to), Math.max(from, to) + 1);
        return;
      }
    }
    selection.value = [item];
    anchor.value = item;
  }

  function selectAll(): void {
    selection.value = [...visibleOrder.value];
  }

  function clearSelection(): void {
    selection.value = [];
    anchor.value = null;
  }

  // Actions.

  const loads = new Map<string, { again: boolean; done: Promise<void> }>();

  /**
   * Re-reads domain.list of a connection. While one read is in flight, further calls only mark
   * one more read to follow it, and all of them resolve when that one is done.
   */
  function refresh(conn: string): Promise<void> {
    const current = loads.get(conn);
    if (current !== undefined) {
      current.again = true;
      return current.done;
    }
    const load = { again: false, done: Promise.resolve() };
    loads.set(conn, load);
    load.done = (async () => {
      try {
        do {
          load.again = false;
          try {
            const rows = await domainList({ conn });
            if (loads.get(conn) !== load) return;
            setRows(conn, rows);
            setListError(conn, undefined);
          } catch (err) {
            if (loads.get(conn) !== load) return;
            setListError(conn, errorText(err));
          }
        } while (load.again);
      } finally {
        if (loads.get(conn) === load) loads.delete(conn);
      }
    })();
    return load.done;
  }

  /** An engine event: something changed on that connection. */
  function domainChanged(conn: string, _event: DomainChangedEvent): void {
    void refresh(conn);
  }

  const operations: Record<LifecycleAction, (t: DomainRef) => Promise<void>> = {
    run: ({ conn, name }) => domainStart({ conn, name }),
    pause: ({ conn, name }) => domainPause({ conn, ref: name }),
    resume: ({ conn, name }) => domainUnpause({ conn, ref: name }),
    reboot: ({ conn, name }) => domainShutdown({ conn, ref: name, reboot: true }),
    shutdown: ({ conn, name }) => domainShutdown({ conn, ref: name }),
    reset: ({ conn, name }) => domainReset({ conn, ref: name }),
    destroy: ({ conn, name }) => domainDestroy({ conn, ref: name }),
  };

  /**
   * Asks the engine for `action` on each of `targets` (default: the selection) that allows it.
   * Resolves with the failures, each with the engine's message; an empty list means all went.
   */
  async function perform(action: LifecycleAction, targets: readonly DomainRef[] = selection.value): Promise<ActionFailure[]> {
    const entries = targetsOf(action, entriesOf(targets));
    const results = await Promise.allSettled(entries.map((e) => operations[action](e)));
    const failures: ActionFailure[] = [];
    results.forEach((result, i) => {
      if (result.status === 'rejected') failures.push({ conn: entries[i]!.conn, name: entries[i]!.name, message: errorText(result.reason) });
    });
    // A reset changes no state, so no event follows: re-read for the CPU time and id.
    if (action === 'reset') for (const conn of new Set(entries.map((e) => e.conn))) void refresh(conn);
    return failures;
  }

  /** Deletes a domain (forced off first if it runs) and the chosen disk images. */
  async function deleteDomain({ conn, name, storage }: DomainRef & { storage: string[] }): Promise<DomainDeleteResult> {
    const result = await domainDelete({ conn, name, storage, force: true });
    selection.value = selection.value.filter((s) => !sameDomain(s, { conn, name }));
    void refresh(conn);
    return result;
  }

  /** Save (libvirt's managedsave): the domain stops, its memory goes to the returned file; Run restores it. */
  function managedSave({ conn, name }: DomainRef): Promise<{ path: string; bytes: number }> {
    return domainManagedSave({ conn, name });
  }

  /** Clone a shut-off domain; the new one is read into the list and becomes the selection. */
  async function clone({ conn, source, name, linked }: { conn: string; source: string; name: string; linked: boolean }): Promise<{ name: string; disks: string[] }> {
    const result = await domainClone({ conn, source, name, linked });
    await refresh(conn);
    if (rowOf({ conn, name: result.name }) !== undefined) select({ conn, name: result.name });
    return result;
  }

  return {
    rowsByConn: readonly(rowsByConn),
    listErrors: readonly(listErrors),
    selection: readonly(selection),
    sort: readonly(sort),
    filter: readonly(filter),
    visibleByConn,
    visibleOrder,
    selectedEntries,
    available,
    rowOf,
    hostLimitsOf,
    isSelected,
    isLoaded,
    setRows,
    setListError,
    forgetConnection,
    setFilter,
    sortBy,
    select,
    selectAll,
    clearSelection,
    refresh,
    domainChanged,
    perform,
    deleteDomain,
    managedSave,
    clone,
  };
});
