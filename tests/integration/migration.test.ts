// Live migration between two engines on this machine (separate state dirs, loopback, a random
// port): the guest's counter keeps running across the move and the test measures the downtime the
// guest saw; the domain keeps its name, uuid and MACs; the destination killed mid-migration and a
// wrong token both leave the domain running on the source.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { migrateDomain, startRelocationServer, type RelocationServer } from '../../engine/migration/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

const TOKEN = 'test-relocation-token-0123456789';
let source: TestEngine;
let target: TestEngine;
let relocation: RelocationServer;

beforeAll(async () => {
  source = startTestEngine();
  target = startTestEngine();
  relocation = await startRelocationServer({
    manager: target.manager,
    address: '127.0.0.1',
    port: 0,
    hostsAllow: [/^127\.0\.0\.1$/],
    token: TOKEN,
    imagesDir: target.paths.imagesDir,
    log: () => undefined,
  });
});

afterAll(async () => {
  await relocation?.close();
  await source?.dispose();
  await target?.dispose();
});

/** A counter with the guest's own clock: `tick <n> <ms since boot>`, every 20 ms. */
function startTicker(serial: SerialConsole): void {
  serial.send('(i=0; while true; do i=$((i+1)); read up idle < /proc/uptime; echo "tick $i $up"; usleep 20000; done) &\n');
}

async function bootOn(engine: TestEngine, name: string): Promise<{ serial: SerialConsole; uuid: string; macs: string[] }> {
  const info = await engine.manager.create(guestConfig(name, "vif = ['']"));
  const serial = await SerialConsole.attach(info.runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  return { serial, uuid: info.uuid, macs: info.macs };
}

describe('live migration', () => {
  test('the guest moves to the other engine while its counter runs; downtime measured from inside', async () => {
    const { serial, uuid, macs } = await bootOn(source, 'mig1');
    startTicker(serial);
    await serial.waitFor(/tick 20 /);
    const progress: number[] = [];
    const result = await migrateDomain(source.manager, 'mig1', {
      host: '127.0.0.1',
      port: relocation.port,
      token: TOKEN,
      live: true,
      downtimeLimitMs: 300,
      onProgress: (p) => progress.push(p.transferred),
    });
    const before = [...serial.text.matchAll(/tick (\d+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    serial.close();
    expect(progress.length).toBeGreaterThan(0);
    expect(source.manager.lookup('mig1')).toBeUndefined();
    const moved = target.manager.info('mig1');
    expect(moved).toMatchObject({ domid: result.domid, uuid, macs, status: 'running' });
    const there = await SerialConsole.attach(moved.runtimeDir);
    const next = await there.waitFor(/tick (\d+) ([\d.]+)/, { timeoutMs: 60_000 });
    await there.waitFor(new RegExp(`tick ${Number(next[1]) + 5} `));
    there.close();
    // The counter continued (no reboot): the first tick there follows the last one seen here.
    const [lastN] = before.at(-1)!;
    expect(Number(next[1])).toBeGreaterThan(lastN - 50);
    expect(Number(next[1])).toBeLessThan(lastN + 50);
    // Downtime seen by the guest: the largest gap between consecutive ticks of its own uptime clock.
    const ticks = [...(serial.text + there.text).matchAll(/tick (\d+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const byN = new Map(ticks);
    let maxGap = 0;
    for (const [n, t] of byN) if (byN.has(n + 1)) maxGap = Math.max(maxGap, byN.get(n + 1)! - t);
    console.log(`migration: QEMU downtime ${result.downtimeMs} ms, total ${result.totalMs} ms, ${result.bytes} bytes; largest tick gap in the guest ${Math.round(maxGap * 1000)} ms`);
    expect(result.downtimeMs).toBeGreaterThanOrEqual(0);
    await target.manager.destroy('mig1');
  });

  test('a wrong token is refused and the domain stays running on the source', async () => {
    const { serial } = await bootOn(source, 'mig2');
    await expect(migrateDomain(source.manager, 'mig2', { host: '127.0.0.1', port: relocation.port, token: 'wrong-token-wrong-token-wrong' })).rejects.toThrow(
      /authentication failed/,
    );
    expect(source.manager.info('mig2').status).toBe('running');
    expect(target.manager.lookup('mig2')).toBeUndefined();
    expect(await serial.run('echo alive')).toContain('alive');
    // A peer outside xend-relocation-hosts-allow is refused before authentication.
    const strict = await startRelocationServer({ manager: target.manager, address: '127.0.0.1', port: 0, hostsAllow: [/^10\./], token: TOKEN, log: () => undefined });
    try {
      await expect(migrateDomain(source.manager, 'mig2', { host: '127.0.0.1', port: strict.port, token: TOKEN })).rejects.toThrow(/not allowed to relocate/);
    } finally {
      await strict.close();
    }
    expect(source.manager.info('mig2').status).toBe('running');
    serial.close();
    await source.manager.destroy('mig2');
  });

  test('the destination killed mid-migration leaves the source running', async () => {
    const { serial } = await bootOn(source, 'mig3');
    // Kill the incoming QEMU once the stream flows into it: it is not a registered domain yet, so
    // it is found by the pid file QEMU writes in the target's runtime dir.
    const pidFile = join(target.paths.domainRuntimeDir('mig3'), 'qemu.pid');
    let killed = false;
    const killer = setInterval(() => {
      if (killed || !existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) {
        killed = true;
        setTimeout(() => process.kill(pid, 'SIGKILL'), 1000);
      }
    }, 5);
    // Slow the stream so the kill lands mid-copy.
    const migration = migrateDomain(source.manager, 'mig3', { host: '127.0.0.1', port: relocation.port, token: TOKEN, live: true, maxBandwidth: 8 * 1024 * 1024 });
    await expect(migration).rejects.toThrow(/still running here/);
    clearInterval(killer);
    expect(killed).toBe(true);
    expect(target.manager.lookup('mig3')).toBeUndefined();
    expect(source.manager.info('mig3').status).toBe('running');
    expect(await serial.run('echo survived')).toContain('survived');
    serial.close();
    await source.manager.destroy('mig3');
  });

  test('--copy-storage: a file the guest wrote to its disk is on the target\'s own copy', async () => {
    const disk = join(source.home, 'cs.img');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', disk, '16M']);
    const info = await source.manager.create(guestConfig('mig4', `disk = ['file:${disk},xvda,w']\nvif = ['']`));
    const serial = await SerialConsole.attach(info.runtimeDir);
    await serial.waitFor(READY, { timeoutMs: 120_000 });
    // Raw block I/O (the guest has no filesystem modules): a marker at the start, another at 8 MiB.
    await serial.run('printf "copied-block-001" > /dev/vda; printf "deep-block-0002" | dd of=/dev/vda bs=1M seek=8 2>/dev/null; sync');
    serial.close();
    const result = await migrateDomain(source.manager, 'mig4', { host: '127.0.0.1', port: relocation.port, token: TOKEN, live: true, copyStorage: true });
    const moved = target.manager.info('mig4');
    expect(moved.domid).toBe(result.domid);
    const copy = join(target.paths.imagesDir, 'mig4-xvda.img');
    expect(target.manager.configOf('mig4').disk[0]!.target).toBe(copy);
    const there = await SerialConsole.attach(moved.runtimeDir);
    expect((await there.run('dd if=/dev/vda bs=16 count=1 2>/dev/null')).trim()).toBe('copied-block-001');
    there.close();
    await target.manager.destroy('mig4');
    // The target's own image holds the data (not just the guest's page cache).
    const bytes = readFileSync(copy);
    expect(bytes.subarray(0, 16).toString()).toBe('copied-block-001');
    expect(bytes.subarray(8 * 1048576, 8 * 1048576 + 15).toString()).toBe('deep-block-0002');
    expect(source.manager.lookup('mig4')).toBeUndefined();
  });
});
