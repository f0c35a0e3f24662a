// xm save / xm restore on a real guest: a counter on the serial console carries on after a
// restore from where it was (no reboot: the guest's uptime grew), `-c` keeps the domain running,
// a restore is refused while the same domain runs, and a save that fails (disk full) leaves the
// domain running with no file under the final name.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readSaveHeader, restoreDomain, saveDomain } from '../../engine/migration/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

let engine: TestEngine;

beforeAll(() => {
  engine = startTestEngine();
});

afterAll(async () => {
  await engine?.dispose();
});

/** Start the counter in the background: `count N` on the serial console every 0.2 s. */
async function startCounter(serial: SerialConsole): Promise<void> {
  serial.send('(i=0; while true; do i=$((i+1)); echo "count $i"; sleep 0.2; done) &\n');
}

function lastCount(text: string): number {
  const all = [...text.matchAll(/count (\d+)/g)];
  return all.length ? Number(all.at(-1)![1]) : -1;
}

async function uptime(serial: SerialConsole): Promise<number> {
  const out = await serial.run('cat /proc/uptime');
  return Number(/^([\d.]+)/m.exec(out.trim())![1]);
}

describe('save and restore', () => {
  test('a saved guest restores where it was: counter continues, uptime grew, no reboot', async () => {
    const info = await engine.manager.create(guestConfig('sr1', "vif = ['']"));
    let serial = await SerialConsole.attach(info.runtimeDir);
    await serial.waitFor(READY, { timeoutMs: 120_000 });
    await startCounter(serial);
    await serial.waitFor(/count 5\b/);
    const upBefore = await uptime(serial);
    const file = join(engine.home, 'sr1.save');
    const saved = await saveDomain(engine.manager, 'sr1', file);
    const countAtSave = lastCount(serial.text);
    serial.close();
    expect(engine.manager.lookup('sr1')).toBeUndefined();
    expect(statSync(file).size).toBe(saved.bytes);
    const { header } = await readSaveHeader(file);
    expect(header.name).toBe('sr1');
    expect(header.uuid).toBe(info.uuid);
    expect(header.macs).toEqual(info.macs);
    // No temp file is left beside it.
    expect(readdirSync(engine.home).filter((f) => f.includes('.tmp'))).toEqual([]);

    const restored = await restoreDomain(engine.manager, file);
    expect(restored.name).toBe('sr1');
    expect(restored.uuid).toBe(info.uuid);
    expect(restored.macs).toEqual(info.macs);
    expect(restored.status).toBe('running');
    serial = await SerialConsole.attach(restored.runtimeDir);
    // The counter goes on from (at most a few counts after) where it was saved, not from 1.
    const next = await serial.waitFor(/count (\d+)/, { timeoutMs: 60_000 });
    const firstAfter = Number(next[1]);
    expect(firstAfter).toBeGreaterThan(countAtSave - 1);
    expect(firstAfter).toBeLessThan(countAtSave + 20);
    await serial.waitFor(new RegExp(`count ${firstAfter + 3}\\b`), { timeoutMs: 60_000 });
    expect(await uptime(serial)).toBeGreaterThan(upBefore);
    expect(serial.text).not.toContain('DOM0-GUEST-READY');
    serial.close();
    await engine.manager.destroy('sr1');
  });

  test('save -c keeps the domain running; restore is refused while it runs; -p restores paused', async () => {
    const info = await engine.manager.create(guestConfig('sr2', "vif = ['']"));
    const serial = await SerialConsole.attach(info.runtimeDir);
    await serial.waitFor(READY, { timeoutMs: 120_000 });
    const file = join(engine.home, 'sr2.save');
    await saveDomain(engine.manager, 'sr2', file, { keepRunning: true });
    expect(engine.manager.info('sr2').status).toBe('running');
    // The guest still answers.
    expect(await serial.run('echo alive')).toContain('alive');
    serial.close();
    await expect(restoreDomain(engine.manager, file)).rejects.toThrow(/already exists/);
    await engine.manager.destroy('sr2');
    const restored = await restoreDomain(engine.manager, file, { paused: true });
    expect(restored.status).toBe('paused');
    await engine.manager.unpause('sr2');
    const again = await SerialConsole.attach(restored.runtimeDir);
    expect(await again.run('echo back')).toContain('back');
    again.close();
    await engine.manager.destroy('sr2');
  });

  test('a file that is not a save file is refused before any QEMU starts', async () => {
    const bogus = join(engine.home, 'bogus.save');
    writeFileSync(bogus, 'not a save file at all');
    await expect(restoreDomain(engine.manager, bogus)).rejects.toThrow(/not a Dom0 save file/);
    expect(engine.manager.list()).toEqual([]);
  });

  const mountPoint = '/tmp/d0t-full-' + process.pid;
  let mounted = false;
  try {
    mkdirSync(mountPoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
  } catch {
    // not root or no mount(8): the disk-full case cannot be staged here
  }
  afterAll(() => {
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  test.skipIf(!mounted)('a save that runs out of disk leaves the domain running and no file', async () => {
    const info = await engine.manager.create(guestConfig('sr3', "vif = ['']"));
    const serial = await SerialConsole.attach(info.runtimeDir);
    await serial.waitFor(READY, { timeoutMs: 120_000 });
    const file = join(mountPoint, 'sr3.save');
    await expect(saveDomain(engine.manager, 'sr3', file)).rejects.toThrow(/still running/);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(mountPoint)).toEqual([]);
    expect(engine.manager.info('sr3').status).toBe('running');
    expect(await serial.run('echo still-here')).toContain('still-here');
    serial.close();
    await engine.manager.destroy('sr3');
  });
});
