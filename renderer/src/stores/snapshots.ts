// A domain's snapshots as the Snapshots tab shows them: the list (a tree by `parent`), and the
// actions on it. Each action re-reads the list afterwards, so the tab shows what the engine has.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { snapshotCreate, snapshotDelete, snapshotList, snapshotRevert } from '../api/index.js';
import type { Snapshot } from '../api/index.js';
import { errorText } from '../model/format.js';
import type { DomainRef } from './domains.js';

export interface SnapshotsEntry {
  loading: boolean;
  busy: boolean;
  error?: string;
  list: Snapshot[];
}

function keyOf({ conn, name }: DomainRef): string {
  return `${conn}\u0000${name}`;
}

export const useSnapshotsStore = defineStore('snapshots', () => {
  const entries = ref<Record<string, SnapshotsEntry>>({});

  function entryOf(target: DomainRef): SnapshotsEntry | undefined {
    return entries.value[keyOf(target)];
  }

  function patch(target: DomainRef, change: Partial<SnapshotsEntry>): void {
    const key = keyOf(target);
    entries.value[key] = { loading: false, busy: false, list: [], ...entries.value[key], ...change };
  }

  async function load(target: DomainRef): Promise<void> {
    patch(target, { loading: true, error: undefined });
    try {
      patch(target, { loading: false, list: await snapshotList({ conn: target.conn, domain: target.name }) });
    } catch (err) {
      patch(target, { loading: false, error: errorText(err) });
    }
  }

  async function act(target: DomainRef, action: () => Promise<unknown>): Promise<boolean> {
    patch(target, { busy: true, error: undefined });
    try {
      await action();
      patch(target, { busy: false });
      await load(target);
      return true;
    } catch (err) {
      patch(target, { busy: false, error: errorText(err) });
      return false;
    }
  }

  return {
    entries,
    entryOf,
    load,
    create: (target: DomainRef, name: string, description: string) =>
      act(target, () => snapshotCreate({ conn: target.conn, domain: target.name, name, description })),
    revert: (target: DomainRef, name: string) => act(target, () => snapshotRevert({ conn: target.conn, domain: target.name, name })),
    remove: (target: DomainRef, name: string) => act(target, () => snapshotDelete({ conn: target.conn, domain: target.name, name })),
  };
});
