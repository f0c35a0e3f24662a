// The domain lifecycle against real QEMU running the real test guest under TCG: what a user of
// `xm create/pause/shutdown/reboot/destroy` would see happen to the guest.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { isProcessAlive } from '../../engine/qemu/index.js';
import { SerialConsole } from './helpers/serial.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine | undefined;
const consoles: SerialConsole[] = [];

afterEach(async () => {
  for (const c of consoles.splice(0)) c.close();
  await engine?.dispose();
  engine = undefined;
});

async function boot(name: string, extra = '', opts: { restartGuardMs?: number } = {}) {
  engine = startTestEngine(opts);
  const info = await engine.manager.create(guestConfig(name, extra), { paused: true });
  const serial = await SerialConsole.attach(info.runtimeDir);
  consoles.push(serial);
  await engine.manager.unpause(info.domid);
  await serial.waitFor(READY);
  return { info, serial, engine };
}

function uptime(text: string): number {
  const value = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isFinite(value)) throw new Error(`not an uptime: ${text}`);
  return value;
}

describe('domain lifecycle (real QEMU, TCG)', () => {
  test('the guest boots, prints its ready marker and answers a command on serial', async () => {
    const { info, serial, engine } = await boot('life-boot');
    expect(info.domid).toBe(1);
    expect(info.accel).toBe('tcg');
    expect(await serial.run('echo hello-$((6*7))')).toContain('hello-42');
    const listed = engine.manager.info('life-boot');
    expect(listed.state).toMatch(/^(r-----|-b----)$/);
  });

  test('pause stops the guest clock and unpause resumes it', async () => {
    const { info, serial, engine } = await boot('life-pause');
    const before = uptime(await serial.run('cat /proc/uptime'));
    const hostBefore = Date.now();
    await engine.manager.pause(info.domid);
    expect(engine.manager.info(info.domid).state).toBe('--p---');
    // While paused a typed command must not be answered; give it a host-time window to fail.
    const from = serial.text.length;
    serial.send('echo still-"alive"\n');
    await expect(serial.waitFor('still-alive', { from, timeoutMs: 2500 })).rejects.toThrow(/no .* within/);
    await engine.manager.unpause(info.domid);
    await serial.waitFor('still-alive', { from });
    const after = uptime(await serial.run('cat /proc/uptime'));
    const hostSeconds = (Date.now() - hostBefore) / 1000;
    // The guest saw noticeably less time pass than the host: the paused 2.5 s did not count.
    expect(hostSeconds - (after - before)).toBeGreaterThan(1.5);
    expect(after).toBeGreaterThan(before);
  });

  test('ACPI shutdown ends in on_poweroff = destroy: no QEMU, socket or file left', async () => {
    const { info, engine } = await boot('life-off');
    await engine.manager.shutdown(info.domid, { wait: true, timeoutMs: 60_000 });
    const ev = await engine.nextEvent((e) => e.kind === 'shutdown' && e.domid === info.domid);
    expect(ev).toMatchObject({ reason: 'poweroff', action: 'destroy' });
    await engine.nextEvent((e) => e.kind === 'destroyed' && e.domid === info.domid);
    expect(engine.manager.list()).toEqual([]);
    expect(isProcessAlive(info.pid)).toBe(false);
    expect(existsSync(info.runtimeDir)).toBe(false);
  });

  test('ACPI shutdown with on_poweroff = preserve keeps the domain in state s until destroyed', async () => {
    const { info, engine } = await boot('life-keep', 'on_poweroff = "preserve"');
    await engine.manager.shutdown(info.domid, { wait: true, timeoutMs: 60_000 });
    expect(engine.manager.info(info.domid).state).toBe('---s--');
    expect(isProcessAlive(info.pid)).toBe(true);
    await engine.manager.destroy(info.domid);
    expect(isProcessAlive(info.pid)).toBe(false);
  });

  test('reboot inside the guest restarts it (on_reboot = restart): same name and uuid, new id', async () => {
    const { info, serial, engine } = await boot('life-reboot', '', { restartGuardMs: 0 });
    serial.send('reboot -f\n');
    const ev = await engine.nextEvent((e) => e.kind === 'restarted' && e.previousDomid === info.domid);
    const now = engine.manager.info('life-reboot');
    expect(now.domid).toBe(ev.domid);
    expect(now.domid).toBeGreaterThan(info.domid);
    expect(now.uuid).toBe(info.uuid);
    expect(now.macs).toEqual(info.macs);
    expect(now.restartCount).toBe(1);
    expect(isProcessAlive(info.pid)).toBe(false);
    // The new guest really boots.
    const again = await SerialConsole.attach(now.runtimeDir);
    consoles.push(again);
    await again.waitFor(READY);
  });

  test("a reboot within the restart guard (Xen's 10 s) is a restart loop: the domain is destroyed instead", async () => {
    // A guard far longer than any boot, so a slow machine cannot push the reboot past it.
    const { info, serial, engine } = await boot('life-loop', '', { restartGuardMs: 10 * 60_000 });
    serial.send('reboot -f\n');
    const ev = await engine.nextEvent((e) => e.kind === 'destroyed' && e.domid === info.domid);
    expect(ev).toMatchObject({ why: expect.stringContaining('too fast') });
    expect(engine.manager.list()).toEqual([]);
  });

  test('xm reboot (ACPI power button + restart) gives a new id even with on_poweroff = destroy', async () => {
    const { info, engine } = await boot('life-xmreboot', '', { restartGuardMs: 0 });
    await engine.manager.reboot(info.domid);
    const ev = await engine.nextEvent((e) => e.kind === 'restarted' && e.previousDomid === info.domid);
    expect(engine.manager.info('life-xmreboot').domid).toBe(ev.domid);
  });

  test('a guest kernel panic triggers on_crash = preserve: state c, QEMU kept', async () => {
    const { info, serial, engine } = await boot('life-crash', 'on_crash = "preserve"');
    serial.send('echo c > /proc/sysrq-trigger\n');
    const ev = await engine.nextEvent((e) => e.kind === 'shutdown' && e.domid === info.domid);
    expect(ev).toMatchObject({ reason: 'crash', action: 'preserve' });
    expect(engine.manager.info(info.domid).state).toBe('----c-');
    expect(isProcessAlive(info.pid)).toBe(true);
  });

  test('on_crash = coredump-destroy writes the guest memory dump, then destroys the domain', async () => {
    const { info, serial, engine } = await boot('life-dump', 'on_crash = "coredump-destroy"');
    serial.send('echo c > /proc/sysrq-trigger\n');
    const dump = await engine.nextEvent((e) => e.kind === 'coredump' && e.domid === info.domid);
    await engine.nextEvent((e) => e.kind === 'destroyed' && e.domid === info.domid);
    const path = (dump as { path: string }).path;
    expect(statSync(path).size).toBeGreaterThan(100 * 1024 * 1024); // 128 MiB of guest RAM
    expect(readFileSync(path).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  test('on_crash = rename-restart keeps the crashed domain under a new name and starts a fresh one', async () => {
    const { info, serial, engine } = await boot('life-rename', 'on_crash = "rename-restart"', { restartGuardMs: 0 });
    serial.send('echo c > /proc/sysrq-trigger\n');
    const renamed = await engine.nextEvent((e) => e.kind === 'renamed' && e.domid === info.domid);
    await engine.nextEvent((e) => e.kind === 'restarted' && e.previousDomid === info.domid);
    const kept = engine.manager.info(info.domid);
    expect(kept.name).toBe(renamed.name);
    expect(kept.name).toMatch(/^Domain-[0-9a-f-]{36}$/);
    expect(kept.state).toBe('----c-');
    const fresh = engine.manager.info('life-rename');
    expect(fresh.uuid).toBe(info.uuid);
    expect(fresh.domid).not.toBe(info.domid);
  });

  test('destroy leaves no QEMU process, socket or temp file behind', async () => {
    const { info, engine } = await boot('life-destroy');
    await engine.manager.destroy('life-destroy');
    expect(isProcessAlive(info.pid)).toBe(false);
    expect(existsSync(info.runtimeDir)).toBe(false);
    expect(readdirSync(engine.paths.runtimeDir + '/domains')).toEqual([]);
    expect(() => engine.manager.info('life-destroy')).toThrow(/does not exist/);
  });
});
