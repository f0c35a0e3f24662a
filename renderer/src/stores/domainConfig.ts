// Domain configs as the domain window and the Delete dialog read them (domain.getConfig: the xm
// file, its path, the typed config, QEMU's command line), and the edits the Details tab saves.
// One load per domain at a time: a second caller shares the load in flight.

import { defineStore } from 'pinia';
import { readonly, ref } from 'vue';
import { domainConfigGet, domainUpdate } from '../api/index.js';
import type { DomainChanges, DomainConfigResult, DomainUpdateResult } from '../api/index.js';
import { errorText } from '../model/format.js';
import { useDomainsStore } from './domains.js';
import type { DomainRef } from './domains.js';

export interface ConfigEntry {
  loading: boolean;
  error?: string;
  data?: DomainConfigResult;
}

function keyOf({ conn, name }: DomainRef): string {
  return `${conn}\u0000${name}`;
}

export const useDomainConfigStore = defineStore('domainConfig', () => {
  const entries = ref<Record<string, ConfigEntry>>({});
  const inFlight = new Map<string, Promise<DomainConfigResult | undefined>>();

  function entryOf(target: DomainRef): ConfigEntry | undefined {
    return entries.value[keyOf(target)];
  }

  // Mutators.

  function setLoading(target: DomainRef): void {
    const key = keyOf(target);
    entries.value[key] = { ...entries.value[key], loading: true, error: undefined };
  }

  function setConfig(target: DomainRef, data: DomainConfigResult): void {
    entries.value[keyOf(target)] = { loading: false, data };
  }

  function setError(target: DomainRef, error: string): void {
    const key = keyOf(target);
    entries.value[key] = { ...entries.value[key], loading: false, error };
  }

  function forget(target: DomainRef): void {
    delete entries.value[keyOf(target)];
  }

  // Actions.

  /** (Re)reads a domain's config; resolves with it, or undefined when it failed (see entry.error). */
  function load(target: DomainRef): Promise<DomainConfigResult | undefined> {
    const key = keyOf(target);
    const current = inFlight.get(key);
    if (current !== undefined) return current;
    setLoading(target);
    const promise = domainConfigGet({ conn: target.conn, name: target.name })
      .then((data) => {
        setConfig(target, data);
        return data;
      })
      .catch((err: unknown) => {
        setError(target, errorText(err));
        return undefined;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, promise);
    return promise;
  }

  /** Saves changes (domain.update); rejects with the engine's error. Re-reads the config after. */
  async function update(target: DomainRef, changes: DomainChanges): Promise<DomainUpdateResult> {
    const result = await domainUpdate({ conn: target.conn, name: target.name, changes });
    void load(target);
    void useDomainsStore().refresh(target.conn);
    return result;
  }

  return { entries: readonly(entries), entryOf, setLoading, setConfig, setError, forget, load, update };
});
