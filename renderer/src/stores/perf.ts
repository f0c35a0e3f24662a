// Live performance figures per connection, from the engine's `stats.sample` ticks (one per
// interval for all domains; nothing polls). Every domain keeps its last RECENT points (the manager
// list's sparkline columns); a domain whose Performance tab is open, or every domain while the
// Host overview is open, keeps the whole hour, loaded from the engine's history when watching
// starts (so a reloaded page shows the past too) and extended by the ticks that follow.
//
// The series are plain arrays outside Vue's reactivity (200 domains × 3600 points would be costly
// to proxy); `version` changes on every tick and history load, and the getters read it and return
// new arrays, so computed values that use them follow.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { statsHistory, type DomainPointData, type DomainTickData, type HostPointData, type StatsSampleEvent } from '../api/index.js';

/** Points kept for a domain nobody watches: 40 s at one a second, as the CPU sparklines. */
export const RECENT = 40;
/** The longest chart window, in seconds. */
export const WINDOW_MAX = 3600;

interface Series {
  domid: number;
  points: DomainPointData[];
}

interface ConnPerf {
  interval: number;
  host: HostPointData[];
  latest: Map<string, DomainTickData>;
  series: Map<string, Series>;
  /** Domain name → number of views watching it. */
  watched: Map<string, number>;
  /** Views watching every domain (the Host overview). */
  watchAll: number;
}

const NO_POINTS: readonly DomainPointData[] = Object.freeze([]);

export const usePerfStore = defineStore('perf', () => {
  const version = ref(0);
  const conns = new Map<string, ConnPerf>();

  function connOf(conn: string): ConnPerf {
    let c = conns.get(conn);
    if (!c) {
      c = { interval: 1, host: [], latest: new Map(), series: new Map(), watched: new Map(), watchAll: 0 };
      conns.set(conn, c);
    }
    return c;
  }

  /** Points a full window needs at the current interval (with a little slack). */
  function keepFull(c: ConnPerf): number {
    return Math.ceil(WINDOW_MAX / Math.max(0.5, c.interval)) + 10;
  }

  function keepFor(c: ConnPerf, name: string): number {
    return c.watchAll > 0 || (c.watched.get(name) ?? 0) > 0 ? keepFull(c) : RECENT;
  }

  function trim<T>(list: T[], keep: number): void {
    if (list.length > keep) list.splice(0, list.length - keep);
  }

  // Getters (each reads `version`, so computeds that call them update on every tick).

  function latestOf(conn: string, name: string): DomainTickData | undefined {
    void version.value;
    return conns.get(conn)?.latest.get(name);
  }

  function pointsOf(conn: string, name: string): readonly DomainPointData[] {
    void version.value;
    // A new array each version: computeds compare by identity, and the series grows in place.
    return conns.get(conn)?.series.get(name)?.points.slice() ?? NO_POINTS;
  }

  function hostPoints(conn: string): readonly HostPointData[] {
    void version.value;
    return conns.get(conn)?.host.slice() ?? [];
  }

  function domainNames(conn: string): string[] {
    void version.value;
    return [...(conns.get(conn)?.latest.keys() ?? [])].sort();
  }

  function intervalOf(conn: string): number {
    void version.value;
    return conns.get(conn)?.interval ?? 1;
  }

  // Mutators.

  /** One `stats.sample` tick of connection `conn`. */
  function addTick(conn: string, tick: StatsSampleEvent): void {
    const c = connOf(conn);
    c.interval = tick.interval;
    c.host.push(tick.host);
    trim(c.host, keepFull(c));
    const latest = new Map<string, DomainTickData>();
    for (const d of tick.domains) {
      latest.set(d.name, d);
      let s = c.series.get(d.name);
      // Another run of the domain: its figures start again.
      if (!s || s.domid !== d.domid) {
        s = { domid: d.domid, points: [] };
        c.series.set(d.name, s);
      }
      const last = s.points.at(-1);
      if (!last || last.time < d.time) s.points.push(d);
      trim(s.points, keepFor(c, d.name));
    }
    for (const name of c.series.keys()) if (!latest.has(name)) c.series.delete(name);
    c.latest = latest;
    version.value++;
  }

  /** Merges the engine's history in front of the points the ticks brought. */
  async function loadHistory(conn: string, names: string[] | undefined, host: boolean): Promise<void> {
    const history = await statsHistory({ conn, domains: names, seconds: WINDOW_MAX, host });
    const c = connOf(conn);
    c.interval = history.interval;
    if (host) c.host = mergeByTime(history.host, c.host, keepFull(c));
    for (const h of history.domains) {
      const s = c.series.get(h.name);
      if (s && s.domid !== h.domid) continue; // the ticks already show a newer run
      c.series.set(h.name, { domid: h.domid, points: mergeByTime(h.points, s?.points ?? [], keepFull(c)) });
    }
    version.value++;
  }

  /** Keeps a domain's full hour while the returned function has not been called. */
  function watch(conn: string, name: string): () => void {
    const c = connOf(conn);
    c.watched.set(name, (c.watched.get(name) ?? 0) + 1);
    void loadHistory(conn, [name], true).catch(() => undefined);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (c.watched.get(name) ?? 1) - 1;
      if (n > 0) c.watched.set(name, n);
      else c.watched.delete(name);
    };
  }

  /** Keeps every domain's full hour (the Host overview) while the returned function has not been called. */
  function watchEverything(conn: string): () => void {
    const c = connOf(conn);
    c.watchAll++;
    void loadHistory(conn, undefined, true).catch(() => undefined);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      c.watchAll = Math.max(0, c.watchAll - 1);
    };
  }

  /**
   * The connection (re)opened: figures from before the gap are dropped, and what views watch is
   * loaded again from the engine's history.
   */
  function reopened(conn: string): void {
    const c = conns.get(conn);
    if (!c) return;
    const watched = [...c.watched.keys()];
    const all = c.watchAll > 0;
    c.host = [];
    c.latest = new Map();
    c.series = new Map();
    version.value++;
    if (all) void loadHistory(conn, undefined, true).catch(() => undefined);
    else if (watched.length) void loadHistory(conn, watched, true).catch(() => undefined);
  }

  function forgetConnection(conn: string): void {
    conns.delete(conn);
    version.value++;
  }

  return { version, latestOf, pointsOf, hostPoints, domainNames, intervalOf, addTick, loadHistory, watch, watchEverything, reopened, forgetConnection };
});

/** History first, then the live points newer than it; at most `keep`, the newest. */
function mergeByTime<T extends { time: number }>(history: readonly T[], live: readonly T[], keep: number): T[] {
  const lastHistory = history.at(-1)?.time ?? -Infinity;
  const merged = [...history, ...live.filter((p) => p.time > lastHistory)];
  return merged.length > keep ? merged.slice(merged.length - keep) : merged;
}
