// `npm run bench`: save/restore and live migration figures, measured in one run.
//
// Save/restore: the engine's `xm save` / `xm restore` path (header + stream through the engine
// into a temp file, fsync, rename; restore through -incoming defer) against raw QEMU on the same
// guest and machine: the same command line without the seccomp sandbox, `migrate exec:cat>FILE`
// and `-incoming exec:cat FILE`, which is what a bare QEMU user runs.
// Live migration: a 256 MiB guest between two engines over loopback, idle and while the guest
// dirties 64 MiB of memory in a loop; QEMU's downtime and total time, and the largest gap the
// guest's own clock shows in a 20 ms ticker. Targets are printed, not asserted (a loaded machine
// yields a number, not a flaky failure).

import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { migrateDomain, restoreDomain, saveDomain, startRelocationServer, type RelocationServer } from '../../engine/migration/index.js';
import { findQemuSystem, planQemu, qemuArgv, QmpClient } from '../../engine/qemu/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from '../integration/helpers/engine.js';
import { SerialConsole } from '../integration/helpers/serial.js';

const TOKEN = 'bench-relocation-token-0123456789';
let a: TestEngine;
let b: TestEngine;
let relocation: RelocationServer;

beforeAll(async () => {
  a = startTestEngine();
  b = startTestEngine();
  relocation = await startRelocationServer({ manager: b.manager, address: '127.0.0.1', port: 0, hostsAllow: [], token: TOKEN, log: () => undefined });
});

afterAll(async () => {
  await relocation?.close();
  await a?.dispose();
  await b?.dispose();
});

const GUEST = "memory = 256\nvif = ['']";

async function boot(engine: TestEngine, name: string): Promise<SerialConsole> {
  const info = await engine.manager.create(guestConfig(name, GUEST));
  const serial = await SerialConsole.attach(info.runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  return serial;
}

/** Raw QEMU: the same guest, started and migrated to a file without the engine. */
async function rawQemu(dir: string, extra: string[]): Promise<{ qmp: QmpClient; pid: number; serial: SerialConsole }> {
  mkdirSync(dir, { recursive: true });
  const plan = planQemu(guestConfig('raw', GUEST), { accel: 'tcg', runtimeDir: dir, uuid: '00000000-0000-0000-0000-000000000001', macFor: () => '00:16:3e:00:00:99' });
  // exec: migration needs a shell, which the engine's sandbox forbids; the baseline runs without it.
  const argv = qemuArgv(plan.options.filter(([flag]) => flag !== '-sandbox'));
  const child = spawn(findQemuSystem(), [...argv, ...extra], { stdio: 'ignore', detached: true });
  child.unref();
  const qmp = await QmpClient.connectWithRetry(join(dir, 'qmp.sock'), { deadlineMs: 30_000 });
  const serial = await SerialConsole.attach(dir);
  return { qmp, pid: child.pid!, serial };
}

async function waitMigrate(qmp: QmpClient, wantSourceDone: boolean): Promise<void> {
  for (;;) {
    if (wantSourceDone) {
      const q = await qmp.execute<{ status?: string }>('query-migrate');
      if (q.status === 'completed') return;
      if (q.status === 'failed') throw new Error('raw migration failed');
    } else {
      const s = await qmp.execute<{ status: string }>('query-status');
      if (s.status !== 'inmigrate') return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('save/restore: engine vs raw QEMU migrate-to-file', async () => {
  // Raw QEMU first.
  const rawDir = join(a.home, 'raw');
  const rawFile = join(a.home, 'raw.state');
  const src = await rawQemu(rawDir, []);
  await src.qmp.execute('cont');
  await src.serial.waitFor(READY, { timeoutMs: 120_000 });
  let t = performance.now();
  await src.qmp.execute('migrate', { uri: `exec:cat > ${rawFile}` });
  await waitMigrate(src.qmp, true);
  const rawSave = performance.now() - t;
  await src.qmp.execute('quit').catch(() => undefined);
  src.serial.close();
  await src.qmp.closed;
  t = performance.now();
  const dst = await rawQemu(join(a.home, 'raw2'), ['-incoming', `exec:cat ${rawFile}`]);
  await waitMigrate(dst.qmp, false);
  await dst.qmp.execute('cont');
  const rawRestore = performance.now() - t;
  await dst.qmp.execute('quit').catch(() => undefined);
  dst.serial.close();

  const serial = await boot(a, 'bsave');
  serial.close();
  const file = join(a.home, 'bsave.save');
  t = performance.now();
  const saved = await saveDomain(a.manager, 'bsave', file);
  const engineSave = performance.now() - t;
  t = performance.now();
  await restoreDomain(a.manager, file);
  const engineRestore = performance.now() - t;
  await a.manager.destroy('bsave');
  console.log(
    [
      `save/restore of a 256 MiB guest (TCG):`,
      `  raw QEMU  save ${rawSave.toFixed(0)} ms (${statSync(rawFile).size} bytes), restore ${rawRestore.toFixed(0)} ms`,
      `  engine    save ${engineSave.toFixed(0)} ms (${saved.bytes} bytes, fsync'd), restore ${engineRestore.toFixed(0)} ms`,
      `  ratio     save ${(engineSave / rawSave).toFixed(2)}x, restore ${(engineRestore / rawRestore).toFixed(2)}x`,
    ].join('\n'),
  );
});

async function migrateOnce(from: TestEngine, name: string, dirty: boolean): Promise<string> {
  const serial = await SerialConsole.attach(from.manager.info(name).runtimeDir);
  const start = serial.text.length;
  serial.send('(i=0; while true; do i=$((i+1)); read up idle < /proc/uptime; echo "tick $i $up"; usleep 20000; done) &\n');
  if (dirty) serial.send('(while true; do dd if=/dev/zero of=/tmp/dirty bs=1M count=64 2>/dev/null; done) &\n');
  await serial.waitFor(/tick 10 /, { from: start });
  const r = await migrateDomain(from.manager, name, { host: '127.0.0.1', port: relocation.port, token: TOKEN, live: true, downtimeLimitMs: 300 });
  serial.close();
  const there = await SerialConsole.attach(b.manager.info(name).runtimeDir);
  const first = await there.waitFor(/tick (\d+) /, { timeoutMs: 60_000 });
  await there.waitFor(new RegExp(`tick ${Number(first[1]) + 10} `));
  there.close();
  const ticks = new Map([...(serial.text.slice(start) + there.text).matchAll(/tick (\d+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
  let gap = 0;
  for (const [n, up] of ticks) if (ticks.has(n + 1)) gap = Math.max(gap, ticks.get(n + 1)! - up);
  return `  ${dirty ? 'dirtying' : 'idle    '}  downtime ${r.downtimeMs} ms (QEMU), total ${r.totalMs} ms, ${(r.bytes / 1048576).toFixed(0)} MiB sent; largest gap in the guest's ticker ${(gap * 1000).toFixed(0)} ms${
    !dirty ? ` (target < 300 ms: ${r.downtimeMs < 300 ? 'met' : 'missed'})` : ''
  }`;
}

test('live migration of a 256 MiB guest: idle and while dirtying memory', async () => {
  (await boot(a, 'bidle')).close();
  const idle = await migrateOnce(a, 'bidle', false);
  await b.manager.destroy('bidle');
  (await boot(a, 'bdirty')).close();
  const dirty = await migrateOnce(a, 'bdirty', true);
  await b.manager.destroy('bdirty');
  console.log(['live migration, 256 MiB guest, loopback, TCG:', idle, dirty].join('\n'));
});
