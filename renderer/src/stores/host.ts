// Host details of each connection: its storage pools, their volumes and its networks. Read when
// the Host details window opens and after every change made through it; the engine's answers
// replace what is shown (free space included). One load per kind and connection at a time.

import { defineStore } from 'pinia';
import { readonly, ref } from 'vue';
import {
  networkDefine,
  networkList,
  networkUndefine,
  poolList,
  volumeCreate,
  volumeDelete,
  volumeList,
  volumeResize,
  type NetworkRow,
  type PoolRow,
  type VolumeRow,
} from '../api/index.js';
import { errorText } from '../model/format.js';

export interface HostEntry {
  pools?: PoolRow[];
  /** Volumes by pool name. */
  volumes: Record<string, VolumeRow[]>;
  networks?: NetworkRow[];
  loading: boolean;
  error?: string;
}

export const useHostStore = defineStore('host', () => {
  const entries = ref<Record<string, HostEntry>>({});
  const inFlight = new Map<string, Promise<void>>();
  const stale = new Set<string>();

  function entryOf(conn: string): HostEntry | undefined {
    return entries.value[conn];
  }

  // Mutators.

  function ensure(conn: string): HostEntry {
    return (entries.value[conn] ??= { volumes: {}, loading: false });
  }

  function setLoading(conn: string, loading: boolean): void {
    ensure(conn).loading = loading;
  }

  function setError(conn: string, error: string | undefined): void {
    ensure(conn).error = error;
  }

  function setPools(conn: string, pools: PoolRow[]): void {
    ensure(conn).pools = pools;
  }

  function setVolumes(conn: string, pool: string, volumes: VolumeRow[]): void {
    ensure(conn).volumes[pool] = volumes;
  }

  function setNetworks(conn: string, networks: NetworkRow[]): void {
    ensure(conn).networks = networks;
  }

  // Actions.

  /** Re-read pools (with every pool's volumes) and networks. */
  function load(conn: string): Promise<void> {
    const current = inFlight.get(conn);
    if (current) return current;
    setLoading(conn, true);
    const promise = (async () => {
      try {
        const [pools, networks] = await Promise.all([poolList({ conn }), networkList({ conn })]);
        setPools(conn, pools);
        setNetworks(conn, networks);
        for (const p of pools) setVolumes(conn, p.name, await volumeList({ conn, pool: p.name }));
        setError(conn, undefined);
      } catch (err) {
        setError(conn, errorText(err));
      } finally {
        setLoading(conn, false);
        inFlight.delete(conn);
      }
    })();
    inFlight.set(conn, promise);
    return promise;
  }

  /**
   * The engine says a pool or network changed (free space, volumes, used-by): re-read, if this
   * connection's Host details were ever shown. A change during a load re-reads once more after it.
   */
  function changed(conn: string): void {
    if (!entries.value[conn]) return;
    const current = inFlight.get(conn);
    if (current) {
      if (!stale.has(conn)) {
        stale.add(conn);
        void current.then(() => {
          stale.delete(conn);
          void load(conn);
        });
      }
      return;
    }
    void load(conn);
  }

  async function createVolume(conn: string, v: { pool: string; name: string; size: number; format: 'qcow2' | 'raw'; preallocate: boolean }): Promise<VolumeRow> {
    const created = await volumeCreate({ conn, ...v });
    await load(conn);
    return created;
  }

  async function resizeVolume(conn: string, v: { pool: string; name: string; size: number; force: boolean }): Promise<void> {
    await volumeResize({ conn, ...v });
    await load(conn);
  }

  async function deleteVolume(conn: string, v: { pool: string; name: string }): Promise<void> {
    await volumeDelete({ conn, ...v });
    await load(conn);
  }

  async function defineNetwork(conn: string, n: { name: string; type: 'bridge' | 'isolated'; bridge?: string }): Promise<void> {
    await networkDefine({ conn, ...n });
    await load(conn);
  }

  async function undefineNetwork(conn: string, name: string): Promise<void> {
    await networkUndefine({ conn, name });
    await load(conn);
  }

  return {
    entries: readonly(entries),
    entryOf,
    setLoading,
    setError,
    setPools,
    setVolumes,
    setNetworks,
    load,
    changed,
    createVolume,
    resizeVolume,
    deleteVolume,
    defineNetwork,
    undefineNetwork,
  };
});
