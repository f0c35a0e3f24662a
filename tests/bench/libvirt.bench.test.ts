// `npm run bench`: a libvirt host with 30 domains, through Dom0's libvirt client and adapter versus
// virsh, in the same run: listing them (Dom0: one ConnectGetAllDomainStats call; virsh list --all)
// and one stats tick for all 30 (Dom0's adapter tick; virsh domstats), as ratios, and libvirtd's
// CPU per Dom0 tick. The domains are real QEMU processes started paused by libvirt, so 30 guests
// need not boot on a 2-core machine. Figures are reported, not asserted: a loaded machine yields a
// number, not a flaky failure. virsh's figures include its process start, which is what a script
// polling virsh pays.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { connectLibvirt, LibvirtAdapter, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { ensureLibvirtd, libvirtUnavailable, virshCleanup, virshDefine } from '../integration/helpers/libvirtd.js';

const skip = libvirtUnavailable();
const N = 30;
const names = Array.from({ length: N }, (_, i) => `dom0-bench-${String(i).padStart(2, '0')}`);
let conn: LibvirtConnection;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function wallMs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function wallMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** libvirtd's user+system CPU so far, in ms (clock ticks of /proc/<pid>/stat). */
function libvirtdCpuMs(): number {
  const pid = execFileSync('pgrep', ['-o', '-x', 'libvirtd'], { encoding: 'utf8' }).trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / hz;
}

describe.skipIf(skip !== null)('libvirt host with 30 domains: Dom0 vs virsh', () => {
  beforeAll(async () => {
    await ensureLibvirtd();
    for (const n of names) {
      virshCleanup(n);
      virshDefine(n, { memoryMiB: 32, vnc: false });
    }
    // A few at a time: QEMU start-up is the slow part.
    for (let i = 0; i < N; i += 3) {
      await Promise.all(
        names.slice(i, i + 3).map(
          (n) =>
            new Promise<void>((resolve, reject) => {
              const r = spawnSync('virsh', ['-c', 'qemu:///system', 'start', '--paused', n], { encoding: 'utf8' });
              if (r.status === 0) resolve();
              else reject(new Error(r.stderr));
            }),
        ),
      );
    }
    conn = await connectLibvirt('qemu:///system');
  }, 600_000);

  afterAll(async () => {
    await conn?.close();
    for (const n of names) virshCleanup(n);
  }, 300_000);

  test('list and one stats tick, ratios and libvirtd CPU per tick', async () => {
    const ticks: unknown[] = [];
    const adapter = new LibvirtAdapter(conn, { domainChanged: () => undefined, statsSample: (t) => ticks.push(t) }, 3_600_000);
    const rounds = 15;
    const dom0List: number[] = [];
    const virshList: number[] = [];
    for (let i = 0; i < rounds; i++) {
      dom0List.push(await wallMsAsync(() => adapter.list()));
      virshList.push(wallMs(() => execFileSync('virsh', ['-c', 'qemu:///system', 'list', '--all'])));
    }
    const listed = (await adapter.list()).filter((r) => names.includes(r.name));
    // The tick is private to the adapter: time it through the same call it makes.
    const tick = () => conn.client.call('ConnectGetAllDomainStats', { doms: [], stats: 1 | 2 | 4 | 8, flags: 1 });
    const dom0Tick: number[] = [];
    const virshTick: number[] = [];
    for (let i = 0; i < rounds; i++) {
      dom0Tick.push(await wallMsAsync(tick));
      virshTick.push(wallMs(() => execFileSync('virsh', ['-c', 'qemu:///system', 'domstats', '--state', '--cpu-total', '--balloon', '--vcpu'])));
    }
    const before = libvirtdCpuMs();
    const cpuRounds = 50;
    for (let i = 0; i < cpuRounds; i++) await tick();
    const perTick = (libvirtdCpuMs() - before) / cpuRounds;
    console.log(
      [
        `libvirt, ${listed.length} domains listed (${N} defined, running paused):`,
        `  list:       Dom0 ${median(dom0List).toFixed(2)} ms, virsh list --all ${median(virshList).toFixed(1)} ms → Dom0/virsh ${(median(dom0List) / median(virshList)).toFixed(3)}`,
        `  stats tick: Dom0 ${median(dom0Tick).toFixed(2)} ms, virsh domstats ${median(virshTick).toFixed(1)} ms → Dom0/virsh ${(median(dom0Tick) / median(virshTick)).toFixed(3)}`,
        `  libvirtd CPU per Dom0 tick: ${perTick.toFixed(2)} ms (${((perTick / N) * 1000).toFixed(0)} µs per domain)`,
      ].join('\n'),
    );
  }, 300_000);
});
