// One sampling tick for all domains (never one timer per domain): CPU use as virt-manager computes
// it, guest % = Δcpu_seconds / Δt / vcpus × 100, clamped to 0–100, from /proc (no process spawns).
// The full stats room (memory, disk, network, history) grows from here.

import { cpus } from 'node:os';

export interface CpuSource {
  /** Running domains with their cumulative CPU seconds. */
  list(): ReadonlyArray<{ domid: number; name: string; cpuTime: number; vcpus: number }>;
}

export interface CpuSample {
  /** ms since the epoch */
  time: number;
  /** Host (Domain-0) CPU use in %, all CPUs together. */
  host: number;
  domains: Array<{ domid: number; name: string; cpu: number }>;
}

const clamp = (v: number) => Math.max(0, Math.min(100, v));

export class CpuSampler {
  readonly #source: CpuSource;
  #last = new Map<number, { cpuTime: number; at: number }>();
  #lastHost: { busy: number; total: number } | undefined;

  constructor(source: CpuSource) {
    this.#source = source;
  }

  /** Take one sample; the first one after a domain appears reports 0 for it (no interval yet). */
  sample(now = Date.now()): CpuSample {
    const next = new Map<number, { cpuTime: number; at: number }>();
    const domains = this.#source.list().map((d) => {
      const prev = this.#last.get(d.domid);
      next.set(d.domid, { cpuTime: d.cpuTime, at: now });
      const dt = prev ? (now - prev.at) / 1000 : 0;
      const cpu = prev && dt > 0 ? clamp(((d.cpuTime - prev.cpuTime) / dt / Math.max(1, d.vcpus)) * 100) : 0;
      return { domid: d.domid, name: d.name, cpu: Math.round(cpu * 10) / 10 };
    });
    this.#last = next;
    return { time: now, host: this.#hostCpu(), domains };
  }

  #hostCpu(): number {
    let busy = 0;
    let total = 0;
    for (const c of cpus()) {
      const t = c.times;
      busy += t.user + t.nice + t.sys + t.irq;
      total += t.user + t.nice + t.sys + t.irq + t.idle;
    }
    const prev = this.#lastHost;
    this.#lastHost = { busy, total };
    if (!prev || total <= prev.total) return 0;
    return Math.round(clamp(((busy - prev.busy) / (total - prev.total)) * 100) * 10) / 10;
  }
}
