// What the domain manager asks of CPU scheduling: pin a new domain's vCPU threads (`cpus`),
// give them Xen's credit weight and cap (`cpu_weight`, `cpu_cap`), change those live
// (`xm sched-credit`), and clean up after the QEMU process is gone.
//
// Hosts without a writable cpu controller (an unprivileged desktop session) still run domains
// with default weight and no cap; only a request for a weight or cap meets the clear
// "unavailable" error.

import { existsSync } from 'node:fs';
import { isProcessAlive } from '../qemu/index.js';
import { CpuCgroups, findCpuController } from './cgroup.js';
import { checkCredit, WEIGHT_DEFAULT, type CreditParams } from './credit.js';
import { hostCpusFor, pinThreads } from './affinity.js';
import { SchedError } from './errors.js';

/** The scheduling part of a domain's config. */
export interface SchedConfig {
  vcpus: number;
  cpus?: string;
  cpu_weight?: number;
  cpu_cap?: number;
}

export function creditOf(config: SchedConfig): CreditParams {
  return { weight: config.cpu_weight ?? WEIGHT_DEFAULT, cap: config.cpu_cap ?? 0 };
}

export class CpuScheduler {
  readonly #cgroups: CpuCgroups | undefined;
  /** QEMU pids whose group this engine created or found (so vcpu-set adds threads to it). */
  readonly #placed = new Set<number>();

  constructor(cgroups: CpuCgroups | undefined) {
    this.#cgroups = cgroups;
  }

  /** The host's cpu controller, or none (every weight/cap request then fails with SchedUnavailable). */
  static forHost(env: NodeJS.ProcessEnv = process.env): CpuScheduler {
    const controller = findCpuController();
    return new CpuScheduler(controller ? new CpuCgroups(controller, env.DOM0_CGROUP || undefined) : undefined);
  }

  get cgroups(): CpuCgroups | undefined {
    return this.#cgroups;
  }

  /**
   * A freshly built domain (still paused): pin its vCPUs, and place them in their group. Every
   * domain is placed where the controller is usable, so all compete by weight inside `dom0/` (one
   * left at the cgroup root would compete with the whole group as an equal). Returns a warning
   * when a domain with default weight and no cap could not be placed.
   */
  async applyAtStart(pid: number, vcpuThreads: readonly number[], config: SchedConfig): Promise<string | undefined> {
    const credit = creditOf(config);
    checkCredit(credit, config.vcpus);
    if (config.cpus !== undefined) await pinThreads(vcpuThreads, hostCpusFor(config.cpus));
    const asked = credit.weight !== WEIGHT_DEFAULT || credit.cap !== 0;
    try {
      await this.#place(pid, vcpuThreads, credit);
      return undefined;
    } catch (err) {
      if (asked || !(err instanceof SchedError)) throw err;
      return err.message;
    }
  }

  /** Threads plugged in by vcpu-set get the same pinning and group as the others. */
  async applyToNewThreads(pid: number, threads: readonly number[], config: SchedConfig): Promise<void> {
    if (config.cpus !== undefined) await pinThreads(threads, hostCpusFor(config.cpus));
    if (this.#placed.has(pid) && this.#cgroups) await this.#cgroups.addThreads(pid, threads);
  }

  /** `xm sched-credit -d D -w W -c C` on a running domain: checked, then applied at once. */
  async setLive(pid: number, vcpuThreads: readonly number[], params: CreditParams, vcpus: number): Promise<void> {
    checkCredit(params, vcpus);
    await this.#place(pid, vcpuThreads, params);
  }

  /** A re-adopted domain: its group (if any) survived the engine restart with the threads in it. */
  adopt(pid: number): void {
    if (this.#cgroups && existsSync(this.#cgroups.groupOf(pid))) this.#placed.add(pid);
  }

  /** The QEMU process has ended: remove its group in the background. */
  release(pid: number): void {
    if (!this.#placed.delete(pid) || !this.#cgroups) return;
    void this.#cgroups.remove(pid).catch(() => undefined);
  }

  /** Groups left by engines that died with their domains gone. */
  async sweep(): Promise<void> {
    await this.#cgroups?.sweep(isProcessAlive);
  }

  async #place(pid: number, threads: readonly number[], params: CreditParams): Promise<void> {
    if (!this.#cgroups) {
      throw new SchedError(
        'SchedUnavailable',
        'CPU weight and cap need the cgroup cpu controller, and this host offers none (no cgroup v1 "cpu" hierarchy, no cgroup v2 with "cpu" in cgroup.controllers); remove cpu_weight/cpu_cap from the config',
      );
    }
    // Recorded first, so release() also removes a group left half-made by a failed write.
    this.#placed.add(pid);
    await this.#cgroups.place(pid, threads, params);
  }
}
