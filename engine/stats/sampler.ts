// One sampling tick for all domains (never a timer per domain). Per domain and tick: one read of
// /proc/<pid>/stat, one of schedstat per vCPU thread, the tap counters in /sys, and at most three QMP
// queries issued together (query-blockstats, query-balloon, the balloon's guest-stats), all
// domains concurrently. Nothing spawns a process, so the cost per domain stays flat.
//
// CPU figures are virt-manager's: host % = Δ(process CPU time) / Δt / host CPUs; guest % =
// Δ(vCPU threads' CPU time) / Δt / vCPUs, from schedstat (ns precision), which also gives the time
// the vCPUs waited for a host CPU (steal). Rates are deltas of cumulative counters over Δt.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { MonitorTarget } from '../domains/index.js';
import { readProcStat } from '../qemu/index.js';
import { History } from './history.js';
import { clampPercent, HostSampler, round1 } from './host.js';
import type { DomainPoint, HostPoint, StatsSettings } from './samples.js';

/** A running domain as the sampler sees it: what DomainManager.monitorTargets() returns. */
export type StatsTarget = MonitorTarget;

export interface StatsSource {
  monitorTargets(): StatsTarget[];
}

/** A domain's point of one tick with what a table needs to show it (xentop's columns). */
export interface DomainTickEntry extends DomainPoint {
  domid: number;
  name: string;
  status: string;
  vcpus: number;
  /** MiB */
  memory: number;
  maxmem: number;
  nets: number;
  vbds: number;
}

export interface StatsTick {
  time: number;
  /** Seconds between ticks. */
  interval: number;
  host: HostPoint;
  domains: DomainTickEntry[];
}

interface Counters {
  at: number;
  procCpu: number;
  /** Per vCPU thread, seconds on a CPU and seconds waiting for one (schedstat). */
  vcpuTimes: number[];
  vcpuWaits: number[];
  disk?: { rd: number; wr: number; rdOps: number; wrOps: number };
  net?: { rx: number; tx: number };
}

interface Tracked {
  domid: number;
  pid: number;
  history: History<DomainPoint>;
  last?: Counters;
  /** The balloon's guest-stats polling interval we set (s), so it is set once, not every tick. */
  polling?: number;
}

interface BlockStats {
  stats?: { rd_bytes?: number; wr_bytes?: number; rd_operations?: number; wr_operations?: number };
}

interface GuestStats {
  stats?: Record<string, number>;
  'last-update'?: number;
}

const BALLOON_PATH = '/machine/peripheral/balloon0';

export class StatsSampler {
  readonly #source: StatsSource;
  readonly #settings: () => StatsSettings;
  readonly #host = new HostSampler();
  readonly #hostHistory = new History<HostPoint>();
  readonly #domains = new Map<string, Tracked>();
  readonly #sysClassNet: string;

  constructor(source: StatsSource, settings: () => StatsSettings, opts: { sysClassNet?: string } = {}) {
    this.#source = source;
    this.#settings = settings;
    this.#sysClassNet = opts.sysClassNet ?? '/sys/class/net';
  }

  async tick(now = Date.now()): Promise<StatsTick> {
    const settings = this.#settings();
    const targets = this.#source.monitorTargets();
    const host = this.#host.sample(now);
    this.#hostHistory.push(host);
    const hostCpus = cpus().length || 1;
    const seen = new Set<string>();
    const domains = await Promise.all(
      targets.map(async (t) => {
        seen.add(t.name);
        let tracked = this.#domains.get(t.name);
        // Another run of the domain (new id or process): its counters start again, so does its history.
        if (!tracked || tracked.domid !== t.domid || tracked.pid !== t.pid) {
          tracked = { domid: t.domid, pid: t.pid, history: new History<DomainPoint>() };
          this.#domains.set(t.name, tracked);
        }
        const point = await this.#sampleDomain(t, tracked, settings, now, hostCpus);
        tracked.history.push(point);
        const entry: DomainTickEntry = {
          ...point,
          domid: t.domid,
          name: t.name,
          status: t.status,
          vcpus: t.vcpus,
          memory: t.memory,
          maxmem: t.maxmem,
          nets: t.taps.length,
          vbds: t.disks,
        };
        return entry;
      }),
    );
    for (const name of this.#domains.keys()) if (!seen.has(name)) this.#domains.delete(name);
    return { time: now, interval: settings.interval, host, domains };
  }

  /** A running domain's points since `since` (ms), or undefined if it is not sampled. */
  history(name: string, since: number, maxPoints?: number): { domid: number; points: DomainPoint[] } | undefined {
    const tracked = this.#domains.get(name);
    return tracked && { domid: tracked.domid, points: tracked.history.since(since, maxPoints) };
  }

  hostHistory(since: number, maxPoints?: number): HostPoint[] {
    return this.#hostHistory.since(since, maxPoints);
  }

  /** Names of the domains that have history. */
  names(): string[] {
    return [...this.#domains.keys()];
  }

  async #sampleDomain(t: StatsTarget, tracked: Tracked, settings: StatsSettings, now: number, hostCpus: number): Promise<DomainPoint> {
    const [block, balloon, guest] = await Promise.all([
      settings.disk && t.disks > 0 ? t.query<BlockStats[]>('query-blockstats').catch(() => undefined) : undefined,
      settings.memory ? t.query<{ actual: number }>('query-balloon').catch(() => undefined) : undefined,
      settings.memory ? this.#guestStats(t, tracked, settings) : undefined,
    ]);
    const procCpu = readProcStat(t.pid)?.cpuSeconds ?? tracked.last?.procCpu ?? 0;
    const sched = t.vcpuThreads.map((tid, i) => readSchedstat(t.pid, tid) ?? { run: tracked.last?.vcpuTimes[i] ?? 0, wait: tracked.last?.vcpuWaits[i] ?? 0 });
    const vcpuTimes = sched.map((x) => x.run);
    const vcpuWaits = sched.map((x) => x.wait);
    const disk = block ? sumBlock(block) : undefined;
    const net = settings.network ? this.#readTaps(t.taps) : undefined;
    const prev = tracked.last;
    tracked.last = { at: now, procCpu, vcpuTimes, vcpuWaits, disk, net };
    const dt = prev ? (now - prev.at) / 1000 : 0;
    const rate = (cur: number | undefined, old: number | undefined): number | null =>
      cur === undefined ? null : old === undefined || dt <= 0 ? 0 : Math.max(0, Math.round((cur - old) / dt));
    const pct = (delta: number, over: number): number => (prev && dt > 0 ? round1(clampPercent((delta / dt / over) * 100)) : 0);
    const vcpuCpu = vcpuTimes.map((v, i) => pct(v - (prev?.vcpuTimes[i] ?? v), 1));
    // Threads unknown (not yet queried): the process time stands in for the vCPUs'.
    const guestDelta = vcpuTimes.length ? vcpuTimes.reduce((a, v, i) => a + v - (prev?.vcpuTimes[i] ?? v), 0) : procCpu - (prev?.procCpu ?? procCpu);
    const waitDelta = vcpuWaits.reduce((a, v, i) => a + v - (prev?.vcpuWaits[i] ?? v), 0);
    return {
      time: now,
      cpu: pct(guestDelta, Math.max(1, vcpuTimes.length || t.vcpus)),
      steal: pct(waitDelta, Math.max(1, vcpuTimes.length || t.vcpus)),
      hostCpu: pct(procCpu - (prev?.procCpu ?? procCpu), hostCpus),
      cpuTime: round1(procCpu),
      vcpuCpu,
      memActual: balloon ? Math.round(balloon.actual / 1048576) : null,
      memUsed: guest ?? null,
      diskRd: rate(disk?.rd, prev?.disk?.rd),
      diskWr: rate(disk?.wr, prev?.disk?.wr),
      diskRdOps: rate(disk?.rdOps, prev?.disk?.rdOps),
      diskWrOps: rate(disk?.wrOps, prev?.disk?.wrOps),
      diskRdTotal: disk?.rd ?? null,
      diskWrTotal: disk?.wr ?? null,
      diskRdOpsTotal: disk?.rdOps ?? null,
      diskWrOpsTotal: disk?.wrOps ?? null,
      netRx: rate(net?.rx, prev?.net?.rx),
      netTx: rate(net?.tx, prev?.net?.tx),
      netRxTotal: net?.rx ?? null,
      netTxTotal: net?.tx ?? null,
    };
  }

  /** MiB the guest uses by its balloon driver's report (total − available), or undefined. */
  async #guestStats(t: StatsTarget, tracked: Tracked, settings: StatsSettings): Promise<number | undefined> {
    try {
      const polling = Math.max(1, Math.round(settings.interval));
      if (tracked.polling !== polling) {
        // Set once per run and interval, failed or not: a domain without a balloon costs no retries.
        tracked.polling = polling;
        await t.query('qom-set', { path: BALLOON_PATH, property: 'guest-stats-polling-interval', value: polling });
      }
      const g = await t.query<GuestStats>('qom-get', { path: BALLOON_PATH, property: 'guest-stats' });
      const s = g.stats ?? {};
      const total = s['stat-total-memory'] ?? -1;
      const available = (s['stat-available-memory'] ?? -1) >= 0 ? s['stat-available-memory']! : (s['stat-free-memory'] ?? -1);
      if (!g['last-update'] || total <= 0 || available < 0) return undefined;
      return Math.round((total - available) / 1048576);
    } catch {
      return undefined;
    }
  }

  /** Guest-side rx/tx over the tap NICs: the host's tx is what the guest received. */
  #readTaps(taps: ReadonlyArray<string | null>): { rx: number; tx: number } | undefined {
    let measured = false;
    let rx = 0;
    let tx = 0;
    for (const tap of taps) {
      if (!tap || !/^[A-Za-z0-9_.-]{1,15}$/.test(tap)) continue;
      try {
        const dir = `${this.#sysClassNet}/${tap}/statistics`;
        tx += Number(readFileSync(`${dir}/rx_bytes`, 'utf8'));
        rx += Number(readFileSync(`${dir}/tx_bytes`, 'utf8'));
        measured = true;
      } catch {
        // the tap is gone (the domain is going away): not measurable this tick
      }
    }
    return measured ? { rx, tx } : undefined;
  }
}

/** /proc/<pid>/task/<tid>/schedstat: seconds on a CPU, seconds waiting on a run queue (ns precision). */
function readSchedstat(pid: number, tid: number): { run: number; wait: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
    const r = Number(run) / 1e9;
    const w = Number(wait) / 1e9;
    return Number.isFinite(r) && Number.isFinite(w) ? { run: r, wait: w } : undefined;
  } catch {
    return undefined;
  }
}

function sumBlock(entries: readonly BlockStats[]): { rd: number; wr: number; rdOps: number; wrOps: number } {
  const sum = { rd: 0, wr: 0, rdOps: 0, wrOps: 0 };
  for (const e of entries) {
    sum.rd += e.stats?.rd_bytes ?? 0;
    sum.wr += e.stats?.wr_bytes ?? 0;
    sum.rdOps += e.stats?.rd_operations ?? 0;
    sum.wrOps += e.stats?.wr_operations ?? 0;
  }
  return sum;
}
