// Live CPU use for the manager list's sparklines (and its CPU time column): per connection and domain name, the last
// CPU_HISTORY samples of the CPU figures of the engine's `stats.sample` ticks (pushed once a
// second; nothing polls), in the shape of its `stats.cpu` event (which carries the same figures).
// Domain-0 takes the sample's `host` value (the host's CPU %); a guest takes its `cpu` (% of its
// vCPUs). A series starts again when the domain's id changes (it was restarted), and is dropped
// when the domain leaves the list or stops running, or its connection (re)opens or goes away.
// State is read-only outside; the API layer's callbacks and the domains store feed the mutators.

import { defineStore } from 'pinia';
import { readonly, ref } from 'vue';
import type { CpuStatsEvent, DomainRow, StatsSampleEvent } from '../api/index.js';

/** Samples kept per domain: 40 s at one a second. */
export const CPU_HISTORY = 40;

/** The host's row in domain.list, whose samples are the event's `host` value. */
export const HOST_DOMAIN = { name: 'Domain-0', domid: 0 } as const;

export interface CpuSeries {
  /** The domain id the samples belong to; another id means another run of the domain. */
  domid: number;
  /** CPU % (0–100), oldest first, at most CPU_HISTORY. */
  samples: number[];
}

const NO_SAMPLES: readonly number[] = Object.freeze([]);

function clampPercent(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.min(100, value)) : 0;
}

export const useStatsStore = defineStore('stats', () => {
  /** conn → domain name → series. */
  const cpu = ref<Record<string, Record<string, CpuSeries>>>({});
  /** conn → domain name → the CPU time (s) of the latest tick, with the id it was read from. */
  const cpuTimes = ref<Record<string, Record<string, { domid: number; seconds: number }>>>({});

  // Getters.

  /** A domain's samples, oldest first (empty if none yet). */
  function samplesOf(conn: string, name: string): readonly number[] {
    return cpu.value[conn]?.[name]?.samples ?? NO_SAMPLES;
  }

  /** A domain's latest CPU %, or undefined before its first sample. */
  function latestOf(conn: string, name: string): number | undefined {
    return cpu.value[conn]?.[name]?.samples.at(-1);
  }

  /**
   * A running domain's CPU time (s) as of the latest tick, or undefined without one for this run
   * (`domid`): the manager's column follows the ticks instead of the last domain.list.
   */
  function cpuTimeOf(conn: string, name: string, domid: number | undefined): number | undefined {
    const t = cpuTimes.value[conn]?.[name];
    return t !== undefined && t.domid === domid ? t.seconds : undefined;
  }

  // Mutators.

  function push(series: Record<string, CpuSeries>, name: string, domid: number, value: number): void {
    const current = series[name];
    const kept = current !== undefined && current.domid === domid ? current.samples : [];
    const samples = [...kept, clampPercent(value)];
    if (samples.length > CPU_HISTORY) samples.splice(0, samples.length - CPU_HISTORY);
    series[name] = { domid, samples };
  }

  /** One `stats.cpu` event of connection `conn`. */
  function addSample(conn: string, sample: CpuStatsEvent): void {
    const series = (cpu.value[conn] ??= {});
    for (const d of sample.domains) {
      if (d.name === HOST_DOMAIN.name || d.domid === HOST_DOMAIN.domid) continue;
      push(series, d.name, d.domid, d.cpu);
    }
    push(series, HOST_DOMAIN.name, HOST_DOMAIN.domid, sample.host);
  }

  /** One `stats.sample` tick of connection `conn`: its CPU figures, as `stats.cpu` has them. */
  function addTick(conn: string, tick: StatsSampleEvent): void {
    const times: Record<string, { domid: number; seconds: number }> = {};
    for (const d of tick.domains) times[d.name] = { domid: d.domid, seconds: d.cpuTime };
    cpuTimes.value[conn] = times;
    addSample(conn, { time: tick.time, host: tick.host.cpu, domains: tick.domains.map((d) => ({ domid: d.domid, name: d.name, cpu: d.cpu })) });
  }

  /**
   * A new domain.list of `conn`: drops the series of domains that left the list or do not run,
   * and starts again those whose id changed.
   */
  function syncRows(conn: string, rows: readonly DomainRow[]): void {
    const series = cpu.value[conn];
    if (series === undefined) return;
    for (const [name, s] of Object.entries(series)) {
      const row = rows.find((r) => r.name === name);
      if (row === undefined || row.domid === undefined || row.domid !== s.domid) delete series[name];
    }
  }

  /** Forgets every series of a connection (it was removed, or (re)opened after a gap). */
  function forgetConnection(conn: string): void {
    delete cpu.value[conn];
    delete cpuTimes.value[conn];
  }

  return {
    cpu: readonly(cpu),
    samplesOf,
    cpuTimeOf,
    latestOf,
    addSample,
    addTick,
    syncRows,
    forgetConnection,
  };
});
