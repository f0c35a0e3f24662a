import { expect, test } from 'vitest';
import { formatTopFrame, frameOf, TOP_COLUMNS, type TopTick } from '../../engine/cli/xm/top-format.js';

const host = { time: 0, cpu: 10, cpuTime: 1000, memTotal: 1024, memUsed: 256, load: [0, 0, 0] as [number, number, number] };
const dom = {
  time: 0, cpu: 50, hostCpu: 25, cpuTime: 10, steal: 0, vcpuCpu: [50], memActual: 128, memUsed: 40,
  diskRd: 0, diskWr: 0, diskRdOps: 0, diskWrOps: 0, diskRdTotal: 1024, diskWrTotal: 4096, diskRdOpsTotal: 2, diskWrOpsTotal: 8,
  netRx: null, netTx: null, netRxTotal: null, netTxTotal: null,
  domid: 3, name: 'web', status: 'paused', vcpus: 1, memory: 128, maxmem: 256, nets: 1, vbds: 1,
};

test("xentop's frame: header, summary, Mem line and a row per domain with Xen's columns", () => {
  const a: TopTick = { time: Date.UTC(2026, 0, 1, 12, 0, 0), host, domains: [dom] };
  const b: TopTick = { time: a.time + 2000, host: { ...host, cpuTime: 1001 }, domains: [{ ...dom, cpuTime: 11 }] };
  const text = formatTopFrame(frameOf(b, a, '0.1.0', 2, 2400));
  const lines = text.split('\n');
  expect(lines[0]).toMatch(/^xentop - \d\d:\d\d:\d\d {3}Dom0 0\.1\.0$/);
  expect(lines[1]).toBe('2 domains: 1 running, 0 blocked, 1 paused, 0 crashed, 0 dying, 0 shutdown ');
  expect(lines[2]).toBe('Mem: 1048576k total, 262144k used, 786432k free    CPUs: 2 @ 2400MHz');
  expect(lines[3]).toBe('      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID');
  expect(lines[3]!.trim().split(/\s+/)).toEqual(TOP_COLUMNS);
  // 1 CPU second in 2 s: 50 %, xentop's scale (100 = one CPU).
  expect(lines[4]).toBe('  Domain-0 -----r       1001   50.0     262144   25.0   no limit       n/a     2    0        0        0    0        0        0        0          0          0    0');
  expect(lines[5]).toBe('       web ----p-         11   50.0     131072   12.5     262144      25.0     1    1      n/a      n/a    1        0        2        8          2          8    0');
});
