// Domain-0 is the host: its facts for `xm info` and the Domain-0 row of `xm list`.

import { execFileSync } from 'node:child_process';
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

export function hostInfo(opts: { qemuBinary: string; accel: string; accelReason: string; engineVersion: string }): HostInfo {
  const cpuList = cpus();
  let qemuVersion = 'unknown';
  try {
    qemuVersion = /version ([^\s]+)/.exec(execFileSync(opts.qemuBinary, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    // reported as unknown
  }
  return {
    host: hostname(),
    release: release(),
    version: version(),
    machine: process.arch === 'x64' ? 'x86_64' : process.arch,
    nr_cpus: cpuList.length,
    cpu_mhz: cpuList[0]?.speed ?? 0,
    total_memory: Math.floor(totalmem() / 1048576),
    free_memory: Math.floor(freemem() / 1048576),
    qemu_version: qemuVersion,
    accelerator: opts.accel,
    accelerator_reason: opts.accelReason,
    dom0_version: opts.engineVersion,
    cpu_time: hostCpuSeconds(),
    uptime: uptime(),
  };
}

function hostCpuSeconds(): number {
  return cpus().reduce((sum, c) => sum + (c.times.user + c.times.nice + c.times.sys + c.times.irq) / 1000, 0);
}

