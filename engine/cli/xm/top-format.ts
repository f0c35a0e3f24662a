// xentop's screen: Xen's summary header and per-domain columns, from ticks of xend's stats stream.
// Pure formatting (engine/cli/xm/top.ts runs the command).

import type { DomainTickData, HostPointData } from '../../protocol/common/xend-api-stats.js';

export type TopTick = { time: number; host: HostPointData; domains: DomainTickData[] };

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

/** CPU % as xentop computes it: CPU seconds used between two frames over the time between them, 100 = one CPU. */
export function frameOf(latest: TopTick, previous: TopTick | undefined, version: string, nrCpus: number, cpuMhz: number): TopFrame {
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
