// `npm run bench`: one side-by-side table of Dom0 against bare QEMU (always) and libvirt (when
// libvirtd answers on qemu:///system), on the same test guest, in the same run, as ratios. Each
// figure is a median over a few runs; a row that cannot be measured says why. Figures are printed,
// not asserted: a loaded shared machine yields a number, not a flaky failure (the load average is
// printed with the table).
//
// What is compared with what:
// - start → ready: launch to the guest's serial prompt. Bare QEMU is the same command line run by
//   hand (no -S); Dom0's and libvirt's overhead is what they add over it.
// - create returns / pause / unpause / destroy / save / restore / list: the command a user types
//   (`xm …` against `virsh …`, both whole processes), and for bare QEMU the QMP command alone.
//   `domain.pause (engine)` is the same call from a connected client: the engine-side latency.
// - daemon RSS: xend + xenstored against libvirtd + virtlogd, with no domain and with 30 domains
//   (built paused, so 30 guests need not boot on a 2-core machine; the daemons hold the same
//   per-domain state). libvirtd is shared on this machine: its figure includes what others left.
// - stats CPU per tick: xend's CPU over a few of its 1 s ticks with 30 domains, against libvirtd's
//   CPU answering one `virsh domstats` per second for the same domains.
// - CLI start: each command line tool's wall time against `node -e 0`, interleaved.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { findQemuSystem, planQemu, qemuArgv, QmpClient } from '../../engine/qemu/index.js';
import { GUEST_INITRD, GUEST_KERNEL, guestConfig, READY } from '../integration/helpers/engine.js';
import { SerialConsole } from '../integration/helpers/serial.js';
import { XendProcess } from '../integration/helpers/xend-process.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const CLI = (name: string) => join(ROOT, 'out/engine/cli', `${name}.js`);
const RUNS = 5;
const MANY = 30;
const TICKS = 6;
const GUEST_MIB = 128;

type Client = Awaited<ReturnType<typeof connectUnix<typeof xendMethods>>>;

let xend: XendProcess;
let client: Client;
let libvirt: { why: string } | { uri: string };
const rows: { name: string; dom0?: number; bare?: number; libvirt?: number; unit: string; note?: string; target?: string }[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
async function medianOf(n: number, fn: () => Promise<unknown>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await timed(fn));
  return median(xs);
}

/** Medians of pausing and of unpausing, alternated. */
async function pauseUnpause(pause: () => Promise<unknown>, unpause: () => Promise<unknown>): Promise<[number, number]> {
  const p: number[] = [];
  const u: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    p.push(await timed(pause));
    u.push(await timed(unpause));
  }
  return [median(p), median(u)];
}

async function probeLibvirt(): Promise<{ why: string } | { uri: string }> {
  const uri = 'qemu:///system';
  try {
    await run('virsh', ['--version']);
  } catch {
    return { why: 'libvirt is not installed (virsh not found): apt-get install libvirt-daemon-system libvirt-clients' };
  }
  try {
    await run('virsh', ['-c', uri, 'version'], { timeout: 15_000 });
    return { uri };
  } catch (err) {
    return { why: `libvirtd does not answer on ${uri} (${String((err as Error).message).split('\n')[0]}): start virtlogd -d; libvirtd -d (see /work/shared/reference/libvirt.md)` };
  }
}

const virsh = (...args: string[]) => run('virsh', ['-c', 'qemu:///system', ...args], { timeout: 120_000 });

function libvirtXml(name: string, serialLog: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${GUEST_MIB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><kernel>${GUEST_KERNEL}</kernel><initrd>${GUEST_INITRD}</initrd><cmdline>console=ttyS0 panic=0 quiet</cmdline></os>
  <on_poweroff>destroy</on_poweroff>
  <devices><serial type='file'><source path='${serialLog}'/><target port='0'/></serial></devices>
</domain>`;
}

/** Waits until the file holds the guest's ready prompt (libvirt's serial goes to a file). */
async function waitFileReady(path: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path) && READY.test(readFileSync(path, 'latin1'))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no ready prompt in ${path} within ${timeoutMs} ms`);
}

/** Resident memory of a process, MiB (0 when it is gone). */
function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function pidOf(name: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** xenstored of this xend: the node process whose command line runs xenstored and whose DOM0_HOME is ours. */
function xenstoredPid(home: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('xenstored')) continue;
      if (readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`DOM0_HOME=${home}`)) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

const xendPid = () => Number(readFileSync(join(xend.home, 'run/xend.pid'), 'utf8').split(' ')[0]);
const daemonRss = () => rssMiB(xendPid()) + rssMiB(xenstoredPid(xend.home));
const libvirtRss = () => rssMiB(pidOf('libvirtd')) + rssMiB(pidOf('virtlogd'));

beforeAll(async () => {
  xend = await XendProcess.start({ prefix: '/tmp/d0b-' });
  client = await connectUnix(join(xend.home, 'run/xend.sock'), xendMethods);
  libvirt = await probeLibvirt();
});

// Each figure is printed when measured too, so a run cut short still leaves its numbers.
let printed = 0;
afterEach(() => {
  for (const r of rows.slice(printed)) console.log(`measured: ${r.name}: dom0 ${r.dom0?.toFixed(1) ?? '—'} bare ${r.bare?.toFixed(1) ?? '—'} libvirt ${r.libvirt?.toFixed(1) ?? '—'} ${r.unit}`);
  printed = rows.length;
});

afterAll(async () => {
  printTable();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  client?.close();
  await xend?.stop();
}, 900_000);

/** Bare QEMU: the engine's command line for the same guest, run by hand (no -S, no engine). */
async function bareQemu(dir: string, extra: string[] = [], paused = false): Promise<{ qmp: QmpClient; serial: SerialConsole; started: number }> {
  mkdirSync(dir, { recursive: true });
  const plan = planQemu(guestConfig('bare', `memory = ${GUEST_MIB}`), { accel: 'tcg', runtimeDir: dir, uuid: '00000000-0000-0000-0000-0000000000b1', macFor: () => '00:16:3e:00:00:b1' });
  // exec: migration needs a shell, which the engine's sandbox forbids; the baseline runs without it.
  const options = plan.options.filter(([flag]) => flag !== '-sandbox' && (paused || flag !== '-S'));
  const started = performance.now();
  const child = spawn(findQemuSystem(), [...qemuArgv(options), ...extra], { stdio: 'ignore', detached: true });
  child.unref();
  const qmp = await QmpClient.connectWithRetry(join(dir, 'qmp.sock'), { deadlineMs: 60_000 });
  const serial = await SerialConsole.attach(dir);
  return { qmp, serial, started };
}

async function bareQuit(b: { qmp: QmpClient; serial: SerialConsole }): Promise<void> {
  b.serial.close();
  await b.qmp.execute('quit').catch(() => undefined);
  await b.qmp.closed;
}

async function bareMigrateDone(qmp: QmpClient, source: boolean): Promise<void> {
  for (;;) {
    if (source) {
      const q = await qmp.execute<{ status?: string }>('query-migrate');
      if (q.status === 'completed') return;
      if (q.status === 'failed') throw new Error('bare QEMU migration failed');
    } else if ((await qmp.execute<{ status: string }>('query-status')).status !== 'inmigrate') return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('bare QEMU: start → ready, pause/unpause, save, restore, destroy', async () => {
  const dir = join(xend.home, 'bare');
  const b = await bareQemu(dir);
  await b.serial.waitFor(READY, { timeoutMs: 120_000 });
  rows.push({ name: 'start → ready', bare: performance.now() - b.started, unit: 'ms' });
  const [pause, unpause] = await pauseUnpause(() => b.qmp.execute('stop'), () => b.qmp.execute('cont'));
  rows.push({ name: 'pause', bare: pause, unit: 'ms', note: 'xm pause vs virsh suspend; bare: QMP stop' });
  rows.push({ name: 'unpause', bare: unpause, unit: 'ms', note: 'xm unpause vs virsh resume; bare: QMP cont' });
  const file = join(xend.home, 'bare.state');
  await b.qmp.execute('migrate-set-parameters', { 'max-bandwidth': 1024 * 1024 * 1024 * 8 }).catch(() => undefined);
  const save = await timed(async () => {
    await b.qmp.execute('migrate', { uri: `exec:cat > ${file}` });
    await bareMigrateDone(b.qmp, true);
  });
  rows.push({ name: 'save', bare: save, unit: 'ms', note: 'bare: QMP migrate to a file' });
  await bareQuit(b);
  let r: Awaited<ReturnType<typeof bareQemu>> | undefined;
  const restore = await timed(async () => {
    r = await bareQemu(join(xend.home, 'bare2'), ['-incoming', `exec:cat ${file}`], true);
    await bareMigrateDone(r.qmp, false);
    await r.qmp.execute('cont');
  });
  rows.push({ name: 'restore', bare: restore, unit: 'ms', note: 'bare: -incoming from the file' });
  const destroy = await timed(() => bareQuit(r!));
  rows.push({ name: 'destroy', bare: destroy, unit: 'ms' });
});

function row(name: string): (typeof rows)[number] {
  let r = rows.find((x) => x.name === name);
  if (!r) rows.push((r = { name, unit: 'ms' }));
  return r;
}

test('Dom0: start → ready, create returns, pause/unpause, save, restore, destroy', async () => {
  const cfg = xend.guestCfg('b0');
  const t0 = performance.now();
  const created = await timed(() => xend.xmOk('create', cfg));
  const serial = await SerialConsole.attach(xend.runtimeDir('b0'));
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  row('start → ready').dom0 = performance.now() - t0;
  serial.close();
  row('create returns').dom0 = created;
  const [pause, unpause] = await pauseUnpause(() => xend.xmOk('pause', 'b0'), () => xend.xmOk('unpause', 'b0'));
  row('pause').dom0 = pause;
  row('unpause').dom0 = unpause;
  const engineSide: number[] = [];
  for (let i = 0; i < RUNS * 2; i++) {
    engineSide.push(await timed(() => client.call('domain.pause', { ref: 'b0' })));
    await client.call('domain.unpause', { ref: 'b0' });
  }
  rows.push({ name: 'domain.pause (engine)', dom0: median(engineSide), unit: 'ms', note: 'one call from a connected client', target: '≤ 5 ms' });
  const file = join(xend.home, 'b0.save');
  row('save').dom0 = await timed(() => xend.xmOk('save', 'b0', file));
  row('restore').dom0 = await timed(() => xend.xmOk('restore', file));
  row('destroy').dom0 = await timed(() => xend.xmOk('destroy', 'b0'));
});

test('libvirt: start → ready, create returns, pause/unpause, save, restore, destroy', async () => {
  if ('why' in libvirt) return;
  const dir = join(xend.home, 'lv');
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'serial.log');
  const xml = join(dir, 'b0.xml');
  const name = `dom0bench-${process.pid}`;
  writeFileSync(xml, libvirtXml(name, log));
  cleanups.push(() => virsh('destroy', name));
  const t0 = performance.now();
  row('create returns').libvirt = await timed(() => virsh('create', xml));
  await waitFileReady(log);
  row('start → ready').libvirt = performance.now() - t0;
  const [pause, unpause] = await pauseUnpause(() => virsh('suspend', name), () => virsh('resume', name));
  row('pause').libvirt = pause;
  row('unpause').libvirt = unpause;
  const file = join(dir, 'b0.save');
  row('save').libvirt = await timed(() => virsh('save', name, file));
  row('restore').libvirt = await timed(() => virsh('restore', file));
  row('destroy').libvirt = await timed(() => virsh('destroy', name));
});

test('CLI start against node -e 0', async () => {
  // A booted, idle guest: its boot would otherwise compete with the commands for the CPU.
  await xend.xmOk('create', xend.guestCfg('cli0'));
  cleanups.push(() => xend.xm('destroy', 'cli0'));
  const serial = await SerialConsole.attach(xend.runtimeDir('cli0'));
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  serial.close();
  const env = xend.env;
  // Each entry is timed in turn with `node -e 0`; pause and unpause alternate so each really acts.
  const commands: [string, string[][]][] = [
    ['xm list', [[CLI('xm'), 'list']]],
    ['xm pause', [[CLI('xm'), 'pause', 'cli0'], [CLI('xm'), 'unpause', 'cli0']]],
    ['xm info', [[CLI('xm'), 'info']]],
    ['xenstore-read', [[CLI('xenstore-read'), '/local/domain/0/name']]],
    ['xenstore-ls', [[CLI('xenstore-ls'), '/local/domain/0']]],
    ['xend status', [[CLI('xend'), 'status']]],
    ['virt-install --help', [[CLI('virt-install'), '--help']]],
    ['xenstored --help', [[CLI('xenstored'), '--help']]],
  ];
  const names: Record<string, string> = { [`${CLI('xm')} unpause cli0`]: 'xm unpause' };
  const node: number[] = [];
  const runNode = () => run(process.execPath, ['-e', '0']);
  await runNode();
  const targets: Record<string, string> = { 'xm list': '≤ 1.3×', 'xm pause': '≤ 1.5×' };
  const figures = new Map<string, number[]>();
  for (const [name, argvs] of commands) {
    for (const argv of argvs) await run(process.execPath, argv, { env }).catch(() => undefined);
    for (let i = 0; i < RUNS; i++) {
      for (const argv of argvs) {
        const label = names[argv.join(' ')] ?? name;
        node.push(await timed(runNode));
        const t = await timed(() => run(process.execPath, argv, { env }));
        figures.set(label, [...(figures.get(label) ?? []), t]);
      }
    }
  }
  const floor = median(node);
  for (const [label, xs] of figures) rows.push({ name: `${label} (vs node -e 0)`, dom0: median(xs), bare: floor, unit: 'ms', target: targets[label] });
  if ('uri' in libvirt) rows.find((r) => r.name === 'xm list (vs node -e 0)')!.note = `virsh list: ${(await medianOf(RUNS, () => virsh('list'))).toFixed(0)} ms`;
});

// Sixty QEMU processes start and stop here: minutes on a loaded 2-core machine.
test(`${MANY} domains: list, daemon RSS, stats CPU per tick`, { timeout: 1_200_000 }, async () => {
  rows.push({ name: 'daemon RSS, 0 domains', dom0: daemonRss(), libvirt: 'uri' in libvirt ? libvirtRss() : undefined, unit: 'MiB', note: 'xend+xenstored vs libvirtd+virtlogd' });
  for (let i = 0; i < MANY; i += 3) {
    await Promise.all([0, 1, 2].map((k) => xend.xmOk('create', '-p', xend.guestCfg(`m${i + k}`, ['memory = 32']))));
  }
  cleanups.push(() => Promise.all(Array.from({ length: MANY }, (_, i) => xend.xm('destroy', `m${i}`))));
  const names: string[] = [];
  if ('uri' in libvirt) {
    const dir = join(xend.home, 'lvmany');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < MANY; i++) {
      const name = `dom0bench-${process.pid}-m${i}`;
      const xml = join(dir, `${i}.xml`);
      writeFileSync(xml, libvirtXml(name, join(dir, `${i}.log`)).replace(`<memory unit='MiB'>${GUEST_MIB}</memory>`, "<memory unit='MiB'>32</memory>"));
      await virsh('create', '--paused', xml);
      names.push(name);
    }
    cleanups.push(() => Promise.all(names.map((n) => virsh('destroy', n).catch(() => undefined))));
  }
  row('list with 30 domains').dom0 = await medianOf(RUNS, () => xend.xmOk('list'));
  if ('uri' in libvirt) row('list with 30 domains').libvirt = await medianOf(RUNS, () => virsh('list'));
  row('list with 30 domains').note = 'xm list vs virsh list (whole commands); 30 paused domains';
  rows.push({ name: 'daemon RSS, 30 domains', dom0: daemonRss(), libvirt: 'uri' in libvirt ? libvirtRss() : undefined, unit: 'MiB', note: 'xend+xenstored vs libvirtd+virtlogd', target: '≤ 1.5×' });

  // Stats: xend samples every domain once a second on its own; libvirtd answers one domstats a second.
  const xpid = xendPid();
  let c0 = cpuSeconds(xpid);
  let t0 = performance.now();
  await new Promise((r) => setTimeout(r, TICKS * 1000));
  const dom0Tick = ((cpuSeconds(xpid) - c0) / ((performance.now() - t0) / 1000)) * 1000;
  const statsRow = { name: 'stats CPU per 1 s tick, 30 domains', dom0: dom0Tick, unit: 'ms CPU', note: "xend's tick vs libvirtd answering virsh domstats once a second" } as (typeof rows)[number];
  rows.push(statsRow);
  if ('uri' in libvirt) {
    const lpid = pidOf('libvirtd')!;
    c0 = cpuSeconds(lpid);
    t0 = performance.now();
    for (let i = 0; i < TICKS; i++) {
      const started = performance.now();
      await virsh('domstats', ...names);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - started))));
    }
    statsRow.libvirt = ((cpuSeconds(lpid) - c0) / ((performance.now() - t0) / 1000)) * 1000;
  }
});

function printTable(): void {
  const lv = 'why' in libvirt ? undefined : libvirt;
  const fmt = (v: number | undefined, unit: string) => (v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${unit}`);
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`);
  const start = rows.find((r) => r.name === 'start → ready');
  if (start?.bare !== undefined) {
    rows.push({
      name: 'start overhead over bare QEMU',
      dom0: start.dom0 !== undefined ? start.dom0 - start.bare : undefined,
      libvirt: start.libvirt !== undefined ? start.libvirt - start.bare : undefined,
      unit: 'ms',
      target: '≤ 0.3× libvirt',
    });
  }
  for (const r of rows) if (r.name === 'save') r.target = '≤ 0.4× libvirt';
  for (const r of rows) if (r.name === 'restore') r.target = '≤ 0.6× libvirt';
  const header = ['', 'Dom0', 'bare QEMU', 'libvirt', 'Dom0/bare', 'Dom0/libvirt', 'target', 'note'];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.dom0, r.unit),
    r.name.endsWith('(vs node -e 0)') ? `${fmt(r.bare, r.unit)} (node)` : fmt(r.bare, r.unit),
    lv ? fmt(r.libvirt, r.unit) : '—',
    ratio(r.dom0, r.bare),
    lv ? ratio(r.dom0, r.libvirt) : '—',
    r.target ?? '',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out = [header, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd());
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('-|-'));
  const la = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(
    [
      `Dom0 side by side (test guest, ${GUEST_MIB} MiB, TCG; medians of ${RUNS}; load average ${la})`,
      ...out,
      lv ? `libvirt: ${lv.uri}` : `libvirt column empty: ${(libvirt as { why: string }).why}`,
      'Rows without a bare QEMU figure have no bare-QEMU equivalent (no daemon, no registry, no CLI).',
    ].join('\n'),
  );
}
