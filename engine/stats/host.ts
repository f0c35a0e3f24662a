// Domain-0's own figures each tick, from the kernel's counters (no process spawns): CPU from the
// per-CPU times, memory from /proc/meminfo (MemAvailable, as `free` reports "available"), load.

import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { HostPoint } from './samples.js';

export class HostSampler {
  #last: { busy: number; total: number } | undefined;

  sample(now: number): HostPoint {
    let busy = 0;
    let total = 0;
    for (const c of cpus()) {
      const t = c.times;
      busy += t.user + t.nice + t.sys + t.irq;
      total += t.user + t.nice + t.sys + t.irq + t.idle;
    }
    const prev = this.#last;
    this.#last = { busy, total };
    const cpu = prev && total > prev.total ? clampPercent(((busy - prev.busy) / (total - prev.total)) * 100) : 0;
    const memTotal = totalmem() / 1048576;
    const load = loadavg();
    return {
      time: now,
      cpu: round1(cpu),
      cpuTime: round1(busy / 1000),
      memTotal: Math.round(memTotal),
      memUsed: Math.round(memTotal - availableMiB()),
      load: [round2(load[0] ?? 0), round2(load[1] ?? 0), round2(load[2] ?? 0)],
    };
  }
}

function availableMiB(): number {
  try {
    const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux: fall back to free memory
  }
  return freemem() / 1048576;
}

export const clampPercent = (v: number): number => (Number.isFinite(v) ? Math.max(0, Math.min(100, v)) : 0);
export const round1 = (v: number): number => Math.round(v * 10) / 10;
const round2 = (v: number): number => Math.round(v * 100) / 100;
