// Reading QEMU processes from /proc. A QEMU whose parent engine died is reparented to PID 1,
// which on some hosts reaps it only seconds after it exits: a zombie is not alive.

import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  /** R running, S sleeping, D disk sleep, Z zombie, T stopped, ... */
  state: string;
  /** utime + stime in seconds. */
  cpuSeconds: number;
  /** Process start time in clock ticks since boot: with the pid, identifies the process. */
  startTicks: number;
  /** CPU the task last ran on. */
  processor: number;
}

/** Parse /proc/<pid>/stat. The comm field may contain spaces and parentheses: split after the last ')'. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('malformed /proc stat line');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime 15, starttime 22.
  const num = (field: number): number => Number(fields[field - 3] ?? NaN);
  return {
    state: fields[0] ?? '?',
    cpuSeconds: (num(14) + num(15)) / CLOCK_TICKS_PER_SECOND,
    startTicks: num(22),
    processor: num(39),
  };
}

export function readProcStat(pid: number, tid?: number): ProcStat | undefined {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    return parseProcStat(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True while the process exists and has not exited (zombies count as gone). */
export function isProcessAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * QEMU processes started with `-pidfile <path>` for a path under `dir`: how the engine finds
 * every QEMU it started, including one whose start was cut short before it was recorded.
 */
export function qemuProcessesUnder(dir: string): { pid: number; pidfile: string }[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const found: { pid: number; pidfile: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    const at = argv.indexOf('-pidfile');
    const pidfile = at >= 0 ? argv[at + 1] : undefined;
    if (pidfile?.startsWith(prefix) && isProcessAlive(Number(entry))) found.push({ pid: Number(entry), pidfile });
  }
  return found;
}
