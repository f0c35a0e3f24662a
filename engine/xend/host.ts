// Domain-0 is the host: its facts for `xm info` and the Domain-0 row of `xm list`.

import { execFile } from 'node:child_process';
import { cpus, freemem, hostname, release, totalmem, uptime, version } from 'node:os';

export interface HostInfo {
  host: string;
  release: string;
  version: string;
  machine: string;
  nr_cpus: number;
  cpu_mhz: number;
  /** MiB */
  total_memory: number;
  free_memory: number;
  qemu_version: string;
  accelerator: string;
  accelerator_reason: string;
  dom0_version: string;
  /** CPU seconds used by the whole host since boot (Domain-0's Time(s)). */
  cpu_time: number;
  uptime: number;
}

/**
 * The host's facts. QEMU's version is asked once per binary, without blocking: `xm info` lands
 * here, and a synchronous `qemu --version` per call stalled xend's event loop for 100+ ms, so
 * a few polling clients made every other request wait.
 */
export async function hostInfo(opts: { qemuBinary: string; accel: string; accelReason: string; engineVersion: string }): Promise<HostInfo> {
  const qemuVersion = await qemuVersionOf(opts.qemuBinary);
  return {
    host: hostname(),
    release: release(),
    version: version(),
    machine: process.arch === 'x64' ? 'x86_64' : process.arch,
    ...hostLoad(),
    qemu_version: qemuVersion,
    accelerator: opts.accel,
    accelerator_reason: opts.accelReason,
    dom0_version: opts.engineVersion,
  };
}

/** What changes from call to call (memory, CPU time): cheap, no child process, for the Domain-0 row of every list. */
export function hostLoad(): Pick<HostInfo, 'nr_cpus' | 'cpu_mhz' | 'total_memory' | 'free_memory' | 'cpu_time' | 'uptime'> {
  const cpuList = cpus();
  return {
    nr_cpus: cpuList.length,
    cpu_mhz: cpuList[0]?.speed ?? 0,
    total_memory: Math.floor(totalmem() / 1048576),
    free_memory: Math.floor(freemem() / 1048576),
    cpu_time: cpuList.reduce((sum, c) => sum + (c.times.user + c.times.nice + c.times.sys + c.times.irq) / 1000, 0),
    uptime: uptime(),
  };
}

const qemuVersions = new Map<string, Promise<string>>();

/** `qemu-system-* --version`, asked once per binary for the life of the process. */
export function qemuVersionOf(binary: string): Promise<string> {
  let found = qemuVersions.get(binary);
  if (!found) {
    found = new Promise((resolve) => {
      execFile(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout) => {
        // A failed probe is not kept: a QEMU installed later is seen by the next call.
        if (err) qemuVersions.delete(binary);
        resolve(err ? 'unknown' : (/version ([^\s]+)/.exec(stdout)?.[1] ?? 'unknown'));
      });
    });
    qemuVersions.set(binary, found);
  }
  return found;
}
