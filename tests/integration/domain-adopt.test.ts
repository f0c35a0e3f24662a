// A new engine takes over the domains an old one left running (after a crash or an upgrade),
// with the same ids, names and uuids, and cleans up after those that died meanwhile.

import { existsSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { DomainManager } from '../../engine/domains/index.js';
import { findQemuSystem, isProcessAlive } from '../../engine/qemu/index.js';
import { SerialConsole } from './helpers/serial.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine | undefined;
const consoles: SerialConsole[] = [];

afterEach(async () => {
  for (const c of consoles.splice(0)) c.close();
  await engine?.dispose();
  engine = undefined;
});

describe('re-adopting running domains', () => {
  test('a second manager adopts two running guests and cleans up a dead one', async () => {
    engine = startTestEngine();
    const first = engine.manager;
    const a = await first.create(guestConfig('adopt-a'));
    const b = await first.create(guestConfig('adopt-b'), { paused: true });
    const c = await first.create(guestConfig('adopt-c'));
    const serialA = await SerialConsole.attach(a.runtimeDir);
    consoles.push(serialA);
    await serialA.waitFor(READY);
    await first.detachAll();
    // c dies while no engine watches it.
    process.kill(c.pid, 'SIGKILL');
    for (let i = 0; i < 500 && isProcessAlive(c.pid); i++) await new Promise((r) => setTimeout(r, 10));

    const second = new DomainManager({ paths: engine.paths, qemuBinary: findQemuSystem(), accel: 'tcg' });
    engine.manager = second;
    const { adopted, cleaned } = await second.adoptAll();
    expect(adopted.map((d) => [d.name, d.domid, d.uuid])).toEqual([
      ['adopt-a', a.domid, a.uuid],
      ['adopt-b', b.domid, b.uuid],
    ]);
    expect(cleaned).toEqual(['adopt-c']);
    expect(existsSync(c.runtimeDir)).toBe(false);
    expect(second.info('adopt-a').status).toBe('running');
    expect(second.info('adopt-b').state).toBe('--p---');

    // The adopted guest still answers, and the engine controls it.
    expect(await serialA.run('echo adopted-$((1+1))')).toContain('adopted-2');
    await second.unpause('adopt-b');
    // New ids continue after the highest ever given.
    const d = await second.create(guestConfig('adopt-d'), { paused: true });
    expect(d.domid).toBe(c.domid + 1);
    await second.destroy('adopt-a');
    expect(isProcessAlive(a.pid)).toBe(false);
  });
});
