// Xen's credit scheduler on QEMU guests: cpu_weight / cpu_cap in the config and xm sched-credit,
// enforced by the cgroup cpu controller on the vCPU threads. Two guests burn CPU pinned to one
// host core (cpus = "N"), so what each gets is decided by the weights, not by the machine's load.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolvePaths } from '../../engine/common/paths.js';
import { connectXend } from '../../engine/cli/xm/commands.js';
import { findCpuController } from '../../engine/sched/index.js';
import { READY } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';
import { XendProcess } from './helpers/xend-process.js';

const controller = findCpuController();
/** The core both guests share: the last one, away from whatever the test runner does on cpu 0. */
const CORE = Math.max(0, (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 1) - 1);
const WINDOW_MS = 6000;
const base = controller ? join(controller.mount, `dom0-test-${process.pid}`) : '';

let xend: XendProcess;
const consoles: SerialConsole[] = [];

function qemuPid(x: XendProcess, domain: string): number {
  return (JSON.parse(readFileSync(join(x.runtimeDir(domain), 'domain.json'), 'utf8')) as { pid: number }).pid;
}

/** sched-a's definition file, written by domain.update. */
function defFile(x: XendProcess): string {
  return join(resolvePaths({ DOM0_HOME: x.home }).domainConfigDir, 'sched-a.cfg');
}

function groupOf(pid: number): string {
  return join(base, `qemu-${pid}`);
}

/** The threads the engine put in the domain's group (v1: exactly its vCPU threads). */
function groupThreads(pid: number): number[] {
  const file = controller!.version === 1 ? 'tasks' : 'cgroup.threads';
  return readFileSync(join(groupOf(pid), file), 'utf8').split('\n').filter(Boolean).map(Number);
}

/** ns the given threads of a process have spent on a CPU (schedstat's first field). */
function onCpuNs(pid: number, tids: number[]): number {
  return tids.reduce((sum, tid) => sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]), 0);
}

/** How many CFS periods the kernel has throttled the domain's group (the cap at work). */
function throttled(pid: number): number {
  return Number(/^nr_throttled (\d+)$/m.exec(readFileSync(join(groupOf(pid), 'cpu.stat'), 'utf8'))?.[1] ?? NaN);
}

async function bootAndBurn(domain: string): Promise<SerialConsole> {
  const c = await SerialConsole.attach(xend.runtimeDir(domain));
  consoles.push(c);
  await c.waitFor(READY, { timeoutMs: 120_000 });
  // A busy loop in the guest keeps its vCPU thread runnable all the time.
  expect(await c.run('(while :; do :; done) & echo burning')).toContain('burning');
  return c;
}

/** CPU each domain's vCPU threads got over one measurement window, in % of one core. */
async function measure(domains: string[]): Promise<Record<string, number>> {
  const targets = domains.map((d) => {
    const pid = qemuPid(xend, d);
    return { d, pid, tids: groupThreads(pid) };
  });
  const before = targets.map((t) => onCpuNs(t.pid, t.tids));
  const t0 = process.hrtime.bigint();
  // The measurement window itself: the one wait that is a duration, not an event.
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const elapsedNs = Number(process.hrtime.bigint() - t0);
  const after = targets.map((t) => onCpuNs(t.pid, t.tids));
  return Object.fromEntries(targets.map((t, i) => [t.d, (100 * (after[i]! - before[i]!)) / elapsedNs]));
}

describe.skipIf(!controller || process.getuid?.() !== 0)('CPU scheduling: weight and cap (xm sched-credit)', () => {
  beforeAll(async () => {
    // This test's own base group (DOM0_CGROUP), weighted like ten busy host processes so the
    // shared machine's load cannot squeeze the guests below the cap being measured.
    mkdirSync(base, { recursive: true });
    if (controller!.version === 1) writeFileSync(join(base, 'cpu.shares'), '10240');
    process.env.DOM0_CGROUP = base;
    try {
      xend = await XendProcess.start();
    } finally {
      delete process.env.DOM0_CGROUP;
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of consoles) c.close();
    await xend?.stop(['sched-a', 'sched-b']);
    // cgroupfs: directories go with rmdir (their control files cannot be unlinked), children first.
    for (const child of existsSync(base) ? readdirSync(base, { withFileTypes: true }) : []) {
      if (child.isDirectory()) rmdirSync(join(base, child.name));
    }
    if (existsSync(base)) rmdirSync(base);
  });

  test('config keys and xm sched-credit: Xen\'s output, live changes, Xen\'s errors', async () => {
    await xend.xmOk('create', xend.guestCfg('sched-a', [`cpus = "${CORE}"`, 'cpu_weight = 256']));
    await xend.xmOk('create', xend.guestCfg('sched-b', [`cpus = "${CORE}"`, 'cpu_cap = 80']));

    let out = await xend.xmOk('sched-credit');
    expect(out.split('\n')[0]).toBe('Name                                ID Weight  Cap');
    expect(out).toContain('Domain-0                             0    256    0\n');
    expect(out).toMatch(/^sched-a {26}\s+\d+ {4}256 {4}0$/m);
    expect(out).toMatch(/^sched-b {26}\s+\d+ {4}256 {3}80$/m);

    expect((await xend.xm('sched-credit', '-d', 'sched-b', '-w', '512', '-c', '0')).code).toBe(0);
    out = await xend.xmOk('sched-credit', '-d', 'sched-b');
    expect(out.split('\n')).toHaveLength(3);
    expect(out).toMatch(/^sched-b {26}\s+\d+ {4}512 {4}0$/m);

    // The kernel holds it: both domains' vCPU threads sit in their groups, with Xen's weights scaled x4.
    const pidA = qemuPid(xend, 'sched-a');
    const pidB = qemuPid(xend, 'sched-b');
    expect(groupThreads(pidA).length).toBe(1);
    if (controller!.version === 1) {
      expect(readFileSync(join(groupOf(pidB), 'cpu.shares'), 'utf8').trim()).toBe('2048');
      expect(readFileSync(join(groupOf(pidB), 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('-1');
      // Pinned by cpus = "N".
      const tid = groupThreads(pidA)[0]!;
      expect(readFileSync(`/proc/${pidA}/task/${tid}/status`, 'utf8')).toMatch(new RegExp(`^Cpus_allowed_list:\\s*${CORE}$`, 'm'));
    }

    // The GUI's Details tab saves through domain.update: weight and cap are applied live there too.
    const client = await connectXend(resolvePaths({ DOM0_HOME: xend.home }));
    try {
      const r = await client.call('domain.update', { name: 'sched-a', changes: { cpu_weight: 300 } });
      expect(r.live).toEqual(['cpu_weight']);
    } finally {
      await client.close();
    }
    expect(await xend.xmOk('sched-credit', '-d', 'sched-a')).toMatch(/^sched-a {26}\s+\d+ {4}300 {4}0$/m);
    expect(readFileSync(defFile(xend), 'utf8')).toMatch(/^cpu_weight = 300$/m);
    await xend.xmOk('sched-credit', '-d', 'sched-a', '-w', '256');
    expect(readFileSync(defFile(xend), 'utf8')).toMatch(/^cpu_weight = 256$/m);

    const bad = await xend.xm('sched-credit', '-d', 'sched-a', '-w', '70000');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error: Cpu weight out of range, valid values are within range from 1 to 65535');
    const capTooBig = await xend.xm('sched-credit', '-d', 'sched-a', '-c', '150');
    expect(capTooBig.stderr).toContain('Cpu cap out of range, valid value is from 0 to 100 for specified VCPU');
    const noDomain = await xend.xm('sched-credit', '-w', '300');
    expect(noDomain.code).toBe(1);
    expect(noDomain.stderr).toContain('No domain given.');
    const unknown = await xend.xm('sched-credit', '-d', 'nosuch');
    expect(unknown.stderr).toContain("Error: Domain 'nosuch' does not exist.");
    const dom0 = await xend.xm('sched-credit', '-d', 'Domain-0', '-w', '512');
    expect(dom0.stderr).toMatch(/privileged domain 0/);
  }, 120_000);

  test('weights 256 and 512 on one core: CPU within 10 % of 1:2', async () => {
    await bootAndBurn('sched-a');
    await bootAndBurn('sched-b');
    const got = await measure(['sched-a', 'sched-b']);
    const ratio = got['sched-b']! / got['sched-a']!;
    console.log(`weights 256:512 → sched-a ${got['sched-a']!.toFixed(1)} %, sched-b ${got['sched-b']!.toFixed(1)} % of core ${CORE}; ratio ${ratio.toFixed(3)}`);
    expect(got['sched-a']!).toBeGreaterThan(5);
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
  }, 300_000);

  test('a cap of 25 holds a burner to 25 % ± 5 of one core', async () => {
    // sched-b stops competing; sched-a alone on the core would take all of it without the cap.
    await xend.xmOk('pause', 'sched-b');
    await xend.xmOk('sched-credit', '-d', 'sched-a', '-c', '25');
    const pid = qemuPid(xend, 'sched-a');
    const throttled0 = throttled(pid);
    const got = await measure(['sched-a']);
    const throttled1 = throttled(pid);
    console.log(`cap 25 → sched-a ${got['sched-a']!.toFixed(1)} % of core ${CORE}, throttled ${throttled1 - throttled0} times`);
    expect(got['sched-a']!).toBeGreaterThan(20);
    expect(got['sched-a']!).toBeLessThan(30);
    // It was the cap that held it (the kernel throttled the group), not the machine's load.
    expect(throttled1 - throttled0).toBeGreaterThan(WINDOW_MS / 100 / 2);
    // Lifting the cap takes effect at once: no more throttling.
    await xend.xmOk('sched-credit', '-d', 'sched-a', '-c', '0');
    const throttled2 = throttled(pid);
    const free = await measure(['sched-a']);
    console.log(`cap 0 → sched-a ${free['sched-a']!.toFixed(1)} %`);
    expect(throttled(pid) - throttled2).toBe(0);
    expect(free['sched-a']!).toBeGreaterThan(40);
  }, 300_000);

  test('the groups go with their domains', async () => {
    const pids = ['sched-a', 'sched-b'].map((d) => qemuPid(xend, d));
    await xend.xmOk('destroy', 'sched-a');
    await xend.xmOk('destroy', 'sched-b');
    const deadline = Date.now() + 10_000;
    while (pids.some((p) => existsSync(groupOf(p))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const p of pids) expect(existsSync(groupOf(p))).toBe(false);
  }, 60_000);
});
