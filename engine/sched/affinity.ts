// Xen's `cpus = "0-3,^1"` pinning, applied to the vCPU threads with sched_setaffinity (taskset,
// run without a shell: the list is ours, digits and commas only).

import { execFile } from 'node:child_process';
import { cpus as hostCpus } from 'node:os';
import { promisify } from 'node:util';
import { SchedError } from './errors.js';

const run = promisify(execFile);

/** "0-3,5,^1" → [0, 2, 3, 5]: inclusions minus exclusions, sorted. */
export function expandCpuList(spec: string): number[] {
  const include = new Set<number>();
  const exclude = new Set<number>();
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\^)?(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new SchedError('InvalidSchedParam', `cpus "${spec}": '${part}' is not a cpu number, range (0-3) or exclusion (^1)`);
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    for (let c = from; c <= to; c++) (m[1] ? exclude : include).add(c);
  }
  return [...include].filter((c) => !exclude.has(c)).sort((a, b) => a - b);
}

/** The host CPUs a domain's `cpus` allows; an error when it names none of this host's. */
export function hostCpusFor(spec: string, hostCount = hostCpus().length): number[] {
  const wanted = expandCpuList(spec);
  const usable = wanted.filter((c) => c < hostCount);
  if (usable.length === 0) {
    throw new SchedError('InvalidSchedParam', `cpus "${spec}" names no CPU of this host (it has ${hostCount}: 0-${hostCount - 1}); change cpus in the domain's config`);
  }
  return usable;
}

export async function pinThreads(threads: readonly number[], cpuList: readonly number[]): Promise<void> {
  const list = cpuList.join(',');
  for (const tid of threads) {
    try {
      await run('taskset', ['-p', '-c', list, String(tid)]);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      // A vCPU unplugged meanwhile: nothing to pin.
      if (/No such process/i.test(e.stderr ?? '')) continue;
      throw new SchedError('SchedUnavailable', `cannot pin vCPU thread ${tid} to cpus ${list}: ${(e.stderr ?? e.message).trim()}`);
    }
  }
}
