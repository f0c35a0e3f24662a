// `xm top` (xentop): Xen's summary header and per-domain columns, from xend's stats stream
// (`stats.sample`, one tick a second for all domains; nothing here polls QEMU). Batch mode (-b)
// prints a frame every -d seconds, -i times; otherwise a full-screen view redrawn in place
// until `q` (or Ctrl-C).

import type { DomainTickData, HostPointData } from '../../protocol/common/xend-api-stats.js';
import { UsageError, type Command, type XmContext } from './commands.js';

export interface TopFrame {
  /** ms since the epoch */
  time: number;
  version: string;
  nrCpus: number;
  cpuMhz: number;
  host: HostPointData;
  /** Domain-0's CPU % over the frame, xentop's way (100 = one CPU). */
  hostCpuPct: number;
  domains: Array<DomainTickData & { cpuPct: number }>;
}

/** xentop's columns: header, width, and how a cell is written. */
const COLUMNS: Array<[string, number]> = [
  ['NAME', 10],
  ['STATE', 6],
  ['CPU(sec)', 10],
  ['CPU(%)', 6],
  ['MEM(k)', 10],
  ['MEM(%)', 6],
  ['MAXMEM(k)', 10],
  ['MAXMEM(%)', 9],
  ['VCPUS', 5],
  ['NETS', 4],
  ['NETTX(k)', 8],
  ['NETRX(k)', 8],
  ['VBDS', 4],
  ['VBD_OO', 8],
  ['VBD_RD', 8],
  ['VBD_WR', 8],
  ['VBD_RSECT', 10],
  ['VBD_WSECT', 10],
  ['SSID', 4],
];
export const TOP_COLUMNS = COLUMNS.map(([h]) => h);

const NOT_MEASURABLE = 'n/a';

function row(cells: string[]): string {
  return cells.map((c, i) => c.padStart(COLUMNS[i]![1])).join(' ');
}

/** xentop's six state letters, in its order: dying, shutdown, blocked, crashed, paused, running. */
function stateCell(status: string): string {
  const letters = ['-', '-', '-', '-', '-', '-'];
  if (status === 'dying') letters[0] = 'd';
  if (status === 'shutdown' || status === 'halted') letters[1] = 's';
  if (status === 'crashed') letters[3] = 'c';
  if (status === 'paused') letters[4] = 'p';
  if (status === 'running') letters[5] = 'r';
  return letters.join('');
}

const kib = (bytes: number | null): string => (bytes === null ? NOT_MEASURABLE : String(Math.floor(bytes / 1024)));
const count = (n: number | null): string => (n === null ? NOT_MEASURABLE : String(Math.floor(n)));
const pct = (v: number): string => v.toFixed(1);

export function formatTopFrame(f: TopFrame): string {
  const time = new Date(f.time).toTimeString().slice(0, 8);
  const counts = { running: 1, blocked: 0, paused: 0, crashed: 0, dying: 0, shutdown: 0 }; // Domain-0 runs
  for (const d of f.domains) {
    if (d.status === 'running') counts.running++;
    else if (d.status === 'paused') counts.paused++;
    else if (d.status === 'crashed') counts.crashed++;
    else if (d.status === 'dying') counts.dying++;
    else if (d.status === 'shutdown') counts.shutdown++;
    else counts.blocked++;
  }
  const totalK = Math.round(f.host.memTotal * 1024);
  const usedK = Math.round(f.host.memUsed * 1024);
  const lines = [
    `xentop - ${time}   Dom0 ${f.version}`,
    `${f.domains.length + 1} domains: ${counts.running} running, ${counts.blocked} blocked, ${counts.paused} paused, ${counts.crashed} crashed, ${counts.dying} dying, ${counts.shutdown} shutdown `,
    `Mem: ${totalK}k total, ${usedK}k used, ${totalK - usedK}k free    CPUs: ${f.nrCpus} @ ${f.cpuMhz}MHz`,
    row(TOP_COLUMNS),
    row([
      'Domain-0',
      stateCell('running'),
      String(Math.floor(f.host.cpuTime)),
      pct(f.hostCpuPct),
      String(usedK),
      pct(totalK ? (usedK / totalK) * 100 : 0),
      'no limit',
      NOT_MEASURABLE,
      String(f.nrCpus),
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
    ]),
  ];
  for (const d of [...f.domains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const memK = Math.round((d.memActual ?? d.memory) * 1024);
    const maxK = Math.round(d.maxmem * 1024);
    lines.push(
      row([
        d.name.slice(0, 10),
        stateCell(d.status),
        String(Math.floor(d.cpuTime)),
        pct(d.cpuPct),
        String(memK),
        pct(totalK ? (memK / totalK) * 100 : 0),
        String(maxK),
        pct(totalK ? (maxK / totalK) * 100 : 0),
        String(d.vcpus),
        String(d.nets),
        kib(d.nets ? d.netTxTotal : 0),
        kib(d.nets ? d.netRxTotal : 0),
        String(d.vbds),
        '0',
        count(d.vbds ? d.diskRdOpsTotal : 0),
        count(d.vbds ? d.diskWrOpsTotal : 0),
        count(d.vbds && d.diskRdTotal !== null ? d.diskRdTotal / 512 : d.vbds ? null : 0),
        count(d.vbds && d.diskWrTotal !== null ? d.diskWrTotal / 512 : d.vbds ? null : 0),
        '0',
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

interface TopOptions {
  batch: boolean;
  delay: number;
  iterations?: number;
}

function parseTopArgs(args: string[]): TopOptions {
  const opts: TopOptions = { batch: false, delay: 3 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = /^-[di].+/.test(a) ? a.slice(2) : args[++i];
      if (v === undefined) throw new UsageError(`option ${a.slice(0, 2)} needs a value`);
      return v;
    };
    if (a === '-b' || a === '--batch') opts.batch = true;
    else if (a.startsWith('-d') || a === '--delay') {
      const v = value();
      const d = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || d < 0.5 || d > 3600) throw new UsageError(`the delay must be a number of seconds from 0.5 to 3600, got '${v}'`);
      opts.delay = d;
    } else if (a.startsWith('-i') || a === '--iterations') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`the number of iterations must be a whole number of at least 1, got '${v}'`);
      opts.iterations = Number(v);
    } else throw new UsageError(`unknown option ${a}`);
  }
  return opts;
}

type Tick = { time: number; host: HostPointData; domains: DomainTickData[] };

async function runTop(ctx: XmContext, args: string[]): Promise<number> {
  const opts = parseTopArgs(args);
  const client = await ctx.client();
  const info = await client.call('host.info');
  const ticks: Tick[] = [];
  let wake: (() => void) | undefined;
  client.on('stats.sample', (t) => {
    ticks.push(t);
    wake?.();
  });
  await client.subscribe(['stats.sample']);
  const interactive = !opts.batch && process.stdout.isTTY === true && process.stdin.isTTY === true;
  let quit = false;
  let stopWaiting: (() => void) | undefined;
  const onKey = (key: Buffer): void => {
    const k = key.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003') {
      quit = true;
      stopWaiting?.();
    }
  };
  if (interactive) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey);
    ctx.out('\x1b[?1049h\x1b[?25l'); // alternate screen, cursor hidden
  }
  let previous: Tick | undefined;
  try {
    for (let n = 0; !quit && (opts.iterations === undefined || n < opts.iterations); n++) {
      // The first frame waits for one tick; later ones for the delay (and at least one more tick).
      const deadline = Date.now() + (n === 0 ? 0 : opts.delay * 1000);
      const seen = ticks.length;
      await new Promise<void>((resolve) => {
        stopWaiting = resolve;
        const check = (): void => {
          if (quit || (ticks.length > seen && Date.now() >= deadline)) resolve();
        };
        wake = check;
        const timer = setTimeout(function again() {
          check();
          if (!quit && !(ticks.length > seen && Date.now() >= deadline)) setTimeout(again, 100).unref();
        }, Math.max(0, deadline - Date.now()));
        timer.unref();
      });
      if (quit) break;
      const latest = ticks[ticks.length - 1]!;
      const frame = frameOf(latest, previous, info.dom0_version, info.nr_cpus, info.cpu_mhz);
      previous = latest;
      ticks.splice(0, ticks.length - 1);
      const text = formatTopFrame(frame);
      if (interactive) ctx.out('\x1b[H\x1b[2J' + text.replace(/\n/g, '\r\n') + '\r\nq: quit');
      else ctx.out(text);
    }
  } finally {
    if (interactive) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      ctx.out('\x1b[?25h\x1b[?1049l');
    }
  }
  return 0;
}

/** CPU % as xentop computes it: CPU seconds used between two frames over the time between them, 100 = one CPU. */
export function frameOf(latest: Tick, previous: Tick | undefined, version: string, nrCpus: number, cpuMhz: number): TopFrame {
  const dt = previous ? (latest.time - previous.time) / 1000 : 0;
  const over = (now: number, before: number | undefined, fallback: number): number => (before !== undefined && dt > 0 ? Math.max(0, ((now - before) / dt) * 100) : fallback);
  return {
    time: latest.time,
    version,
    nrCpus,
    cpuMhz,
    host: latest.host,
    hostCpuPct: over(latest.host.cpuTime, previous?.host.cpuTime, latest.host.cpu * nrCpus),
    domains: latest.domains.map((d) => {
      const before = previous?.domains.find((p) => p.name === d.name && p.domid === d.domid);
      return { ...d, cpuPct: over(d.cpuTime, before?.cpuTime, d.hostCpu * nrCpus) };
    }),
  };
}

export const TOP_COMMANDS: Command[] = [
  {
    name: 'top',
    usage: 'top [-b] [-d SECONDS] [-i ITERATIONS]',
    summary:
      'Monitor the host and the domains in real time (xentop).\n  -b, --batch           Batch mode: print frames to standard output\n  -d, --delay=SECONDS   Seconds between updates (default 3)\n  -i, --iterations=N    Number of updates before exiting (default: until q)',
    run: runTop,
  },
];
