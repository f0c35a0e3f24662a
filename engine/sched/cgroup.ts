// The cgroup cpu controller as the engine uses it: one group per QEMU process under `dom0/`,
// named after its pid (unique on the host even while two engines on it hold the same domain
// during a local migration), holding that domain's vCPU threads.
//
// cgroup v1 (the `cpu` hierarchy) can hold single threads, so only the vCPU threads go in and
// QEMU's I/O and main-loop threads keep their normal share, as Xen's dom0 backends did. cgroup v2
// keeps a process's threads together outside threaded subtrees, so there the whole QEMU process
// goes in; its non-vCPU threads are mostly idle.

import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { capToQuota, CAP_PERIOD_US, weightToCgroup2, weightToShares, type CreditParams } from './credit.js';
import { SchedError } from './errors.js';

export interface CpuController {
  version: 1 | 2;
  /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/cpu (v1) or /sys/fs/cgroup (v2). */
  mount: string;
}

/** The cpu controller from /proc/self/mountinfo: a v1 hierarchy carrying `cpu`, else v2 if it offers cpu. */
export function findCpuController(mountinfoText?: string): CpuController | undefined {
  let text = mountinfoText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountpoint = unescapeMount(left.split(' ')[4] ?? '');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype === 'cgroup' && superOptions.split(',').includes('cpu')) return { version: 1, mount: mountpoint };
    if (fstype === 'cgroup2' && v2 === undefined) v2 = mountpoint;
  }
  if (v2 === undefined) return undefined;
  try {
    if (readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return { version: 2, mount: v2 };
  } catch {
    // unreadable: treat as absent
  }
  return undefined;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export class CpuCgroups {
  readonly controller: CpuController;
  /** `<mount>/dom0` unless DOM0_CGROUP says otherwise: every engine on the host shares it; groups inside are per QEMU pid. */
  readonly base: string;

  /** `base`: an absolute directory inside the controller's mount (DOM0_CGROUP); default `<mount>/dom0`. */
  constructor(controller: CpuController, base?: string) {
    this.controller = controller;
    const mount = controller.mount.replace(/\/+$/, '');
    if (base !== undefined && (!isAbsolute(base) || !normalize(base).startsWith(`${mount}/`))) {
      throw new SchedError('SchedUnavailable', `DOM0_CGROUP=${base} is not a directory inside the cgroup cpu hierarchy mounted at ${mount}; give a path under it, or unset it`);
    }
    this.base = base === undefined ? join(mount, 'dom0') : normalize(base);
  }

  groupOf(pid: number): string {
    return join(this.base, `qemu-${pid}`);
  }

  /** Create the domain's group, set its weight and cap, then move its threads in. */
  async place(pid: number, vcpuThreads: readonly number[], params: CreditParams): Promise<void> {
    const group = this.groupOf(pid);
    await this.#prepareBase();
    await guard(group, () => mkdir(group, { recursive: true }));
    await this.set(pid, params);
    await this.addThreads(pid, vcpuThreads);
  }

  /** Threads that appeared later (vcpu-set): into the same group. */
  async addThreads(pid: number, vcpuThreads: readonly number[]): Promise<void> {
    const group = this.groupOf(pid);
    if (this.controller.version === 2) {
      await guard(group, () => writeFile(join(group, 'cgroup.procs'), String(pid)));
      return;
    }
    for (const tid of vcpuThreads) {
      try {
        await writeFile(join(group, 'tasks'), String(tid));
      } catch (err) {
        // A vCPU unplugged meanwhile has no thread to move.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw unavailable(group, err);
      }
    }
  }

  /** Change weight and cap of a placed group: takes effect at once. */
  async set(pid: number, params: CreditParams): Promise<void> {
    const group = this.groupOf(pid);
    const quota = capToQuota(params.cap);
    if (this.controller.version === 1) {
      await guard(group, () => writeFile(join(group, 'cpu.shares'), String(weightToShares(params.weight))));
      await guard(group, () => writeFile(join(group, 'cpu.cfs_period_us'), String(CAP_PERIOD_US)));
      await guard(group, () => writeFile(join(group, 'cpu.cfs_quota_us'), String(quota ?? -1)));
    } else {
      await guard(group, () => writeFile(join(group, 'cpu.weight'), String(weightToCgroup2(params.weight))));
      await guard(group, () => writeFile(join(group, 'cpu.max'), `${quota ?? 'max'} ${CAP_PERIOD_US}`));
    }
  }

  /** What the kernel holds for a group, in its own units (for `xm sched-credit` checks and tests). */
  async readRaw(pid: number): Promise<{ weight: number; quotaUs: number | undefined; periodUs: number; threads: number[] }> {
    const group = this.groupOf(pid);
    const read = async (f: string) => (await readFile(join(group, f), 'utf8')).trim();
    const threadsFile = this.controller.version === 1 ? 'tasks' : 'cgroup.threads';
    const threads = (await read(threadsFile)).split('\n').filter(Boolean).map(Number);
    if (this.controller.version === 1) {
      const quota = Number(await read('cpu.cfs_quota_us'));
      return { weight: Number(await read('cpu.shares')), quotaUs: quota < 0 ? undefined : quota, periodUs: Number(await read('cpu.cfs_period_us')), threads };
    }
    const [q, p] = (await read('cpu.max')).split(' ');
    return { weight: Number(await read('cpu.weight')), quotaUs: q === 'max' ? undefined : Number(q), periodUs: Number(p), threads };
  }

  /**
   * Remove a group once its threads are gone. A thread leaves its cgroup when it exits, which can
   * trail QEMU's QMP socket closing by a moment, so EBUSY is retried for a short while.
   */
  async remove(pid: number, { attempts = 50, intervalMs = 50 } = {}): Promise<void> {
    const group = this.groupOf(pid);
    for (let i = 0; i < attempts; i++) {
      try {
        await rmdir(group);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY') throw err;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Groups whose QEMU is gone (an engine killed before it could clean up). */
  async sweep(isAlive: (pid: number) => boolean): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.base);
    } catch {
      return [];
    }
    const removed: number[] = [];
    for (const name of names) {
      const m = /^qemu-(\d+)$/.exec(name);
      if (!m || isAlive(Number(m[1]))) continue;
      await this.remove(Number(m[1]), { attempts: 1 }).then(
        () => removed.push(Number(m[1])),
        () => undefined,
      );
    }
    return removed;
  }

  async #prepareBase(): Promise<void> {
    await guard(this.base, () => mkdir(this.base, { recursive: true }));
    if (this.controller.version === 2) {
      // v2 hands a controller to children only when each ancestor lists it in subtree_control.
      for (const dir of [this.controller.mount, this.base]) {
        await guard(dir, () => writeFile(join(dir, 'cgroup.subtree_control'), '+cpu'));
      }
    }
  }
}

async function guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unavailable(path, err);
  }
}

function unavailable(path: string, err: unknown): SchedError {
  const e = err as NodeJS.ErrnoException;
  return new SchedError(
    'SchedUnavailable',
    `cannot use the cgroup cpu controller at ${path}: ${e.code ?? ''} ${e.message}; CPU weight and cap need write access to it ` +
      '(run xend as root, or delegate a cgroup with the cpu controller to its user)',
  );
}
