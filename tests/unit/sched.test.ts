// engine/sched without a kernel: Xen's ranges, the unit conversions, the cpu list grammar, and
// what the cgroup writer puts in a v1 and a v2 layout (a temp dir standing in for /sys/fs/cgroup).

import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { capToQuota, checkCredit, CpuCgroups, expandCpuList, findCpuController, hostCpusFor, weightToCgroup2, weightToShares } from '../../engine/sched/index.js';

describe('credit parameters', () => {
  test("Xen's ranges and messages", () => {
    expect(() => checkCredit({ weight: 0 }, 1)).toThrow('Cpu weight out of range, valid values are within range from 1 to 65535');
    expect(() => checkCredit({ weight: 65536 }, 1)).toThrow(/out of range/);
    expect(() => checkCredit({ cap: 201 }, 2)).toThrow('Cpu cap out of range, valid value is from 0 to 200 for specified VCPU');
    expect(() => checkCredit({ weight: 65535, cap: 200 }, 2)).not.toThrow();
  });

  test('weights keep their ratios; the default maps to the kernel default', () => {
    expect(weightToShares(256)).toBe(1024);
    expect(weightToShares(512) / weightToShares(256)).toBe(2);
    expect(weightToCgroup2(256)).toBe(100);
    expect(weightToCgroup2(1)).toBe(1);
    expect(weightToCgroup2(65535)).toBe(10000);
    expect(capToQuota(0)).toBeUndefined();
    expect(capToQuota(25)).toBe(25_000);
    expect(capToQuota(150)).toBe(150_000);
  });

  test("Xen's cpu lists", () => {
    expect(expandCpuList('0-3,5,^1')).toEqual([0, 2, 3, 5]);
    expect(expandCpuList('1')).toEqual([1]);
    expect(() => expandCpuList('a-b')).toThrow(/not a cpu number/);
    expect(hostCpusFor('0-7', 2)).toEqual([0, 1]);
    expect(() => hostCpusFor('4', 2)).toThrow('cpus "4" names no CPU of this host (it has 2: 0-1)');
  });
});

describe('cgroup layout', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('mountinfo: a v1 cpu hierarchy wins; v2 only when it offers cpu', () => {
    dir = mkdtempSync('/tmp/d0sched-');
    const v1 = '35 25 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:13 - cgroup cgroup rw,cpu\n36 25 0:31 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n';
    expect(findCpuController(v1)).toEqual({ version: 1, mount: '/sys/fs/cgroup/cpu' });
    writeFileSync(join(dir, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    expect(findCpuController(`30 1 0:26 / ${dir} rw - cgroup2 cgroup2 rw,nsdelegate\n`)).toEqual({ version: 2, mount: dir });
    writeFileSync(join(dir, 'cgroup.controllers'), 'memory pids\n');
    expect(findCpuController(`30 1 0:26 / ${dir} rw - cgroup2 cgroup2 rw\n`)).toBeUndefined();
  });

  test('v1: shares, period and quota on the group, vCPU threads into tasks', async () => {
    dir = mkdtempSync('/tmp/d0sched-');
    const cg = new CpuCgroups({ version: 1, mount: dir });
    await cg.place(4242, [4243, 4244], { weight: 512, cap: 25 });
    const group = join(dir, 'dom0/qemu-4242');
    expect(readFileSync(join(group, 'cpu.shares'), 'utf8')).toBe('2048');
    expect(readFileSync(join(group, 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    expect(readFileSync(join(group, 'cpu.cfs_quota_us'), 'utf8')).toBe('25000');
    // A real `tasks` file takes one tid per write; the stand-in keeps the last.
    expect(readFileSync(join(group, 'tasks'), 'utf8')).toBe('4244');
    await cg.set(4242, { weight: 256, cap: 0 });
    expect(readFileSync(join(group, 'cpu.cfs_quota_us'), 'utf8')).toBe('-1');
  });

  test('v2: cpu enabled down the tree, cpu.weight and cpu.max, the process into cgroup.procs', async () => {
    dir = mkdtempSync('/tmp/d0sched-');
    const cg = new CpuCgroups({ version: 2, mount: dir });
    await cg.place(77, [78], { weight: 512, cap: 50 });
    expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(readFileSync(join(dir, 'dom0/cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(readFileSync(join(dir, 'dom0/qemu-77/cpu.weight'), 'utf8')).toBe('200');
    expect(readFileSync(join(dir, 'dom0/qemu-77/cpu.max'), 'utf8')).toBe('50000 100000');
    expect(readFileSync(join(dir, 'dom0/qemu-77/cgroup.procs'), 'utf8')).toBe('77');
  });

  test('an unwritable controller is a clear SchedUnavailable error', async () => {
    dir = mkdtempSync('/tmp/d0sched-');
    writeFileSync(join(dir, 'dom0'), 'not a directory');
    const cg = new CpuCgroups({ version: 1, mount: dir });
    await expect(cg.place(1, [1], { weight: 256, cap: 0 })).rejects.toMatchObject({ code: 'SchedUnavailable', message: expect.stringMatching(/cgroup cpu controller .*run xend as root/) });
  });

  test('sweep removes groups of dead QEMUs only', async () => {
    dir = mkdtempSync('/tmp/d0sched-');
    mkdirSync(join(dir, 'dom0/qemu-10'), { recursive: true });
    mkdirSync(join(dir, 'dom0/qemu-11'), { recursive: true });
    const cg = new CpuCgroups({ version: 1, mount: dir });
    expect(await cg.sweep((pid) => pid === 11)).toEqual([10]);
  });
});
