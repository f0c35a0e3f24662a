// Managed save (libvirt's managedsave, the GUI's Save) against a real xend and a real guest:
// domain.managedSave writes <data>/save/<name>.save and stops the domain, domain.list shows it
// halted and saved, `xm start` restores it (the guest carries on: uptime grew, no second boot)
// and consumes the file; a domain started from a file only (not defined) is refused and keeps
// running; deleting a saved domain removes its save file too.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { GUEST_INITRD, GUEST_KERNEL, READY, requireGuest, stopXenstored } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const XM = join(root, 'out/engine/cli/xm.js');
const XEND = join(root, 'out/engine/cli/xend.js');

let home: string;
let env: NodeJS.ProcessEnv;
let xend: ChildProcess;
let client: Awaited<ReturnType<typeof connectUnix<typeof xendMethods>>>;

async function xm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [XM, ...args], { env, cwd: home });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function config(name: string): string {
  const path = join(home, `${name}.cfg`);
  writeFileSync(path, [`name = "${name}"`, 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, 'extra = "console=ttyS0 panic=0 quiet"', ''].join('\n'));
  return path;
}

async function uptime(serial: SerialConsole): Promise<number> {
  return Number((await serial.run('cat /proc/uptime')).trim().split(/\s+/)[0]);
}

beforeAll(async () => {
  requireGuest();
  home = mkdtempSync('/tmp/d0m-');
  env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
  xend = spawn(process.execPath, [XEND], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    xend.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('listening on')) resolve();
    });
    xend.once('exit', (code) => reject(new Error(`xend exited (${code}): ${stderr}`)));
  });
  client = await connectUnix(join(home, 'run/xend.sock'), xendMethods);
});

afterAll(async () => {
  if (client) {
    for (const d of await client.call('domain.list')) if (d.domid && d.domid > 0) await client.call('domain.destroy', { ref: d.domid }).catch(() => null);
    await client.close();
  }
  if (xend && xend.exitCode === null) {
    xend.kill('SIGTERM');
    await new Promise((r) => xend.once('exit', r));
  }
  if (home) {
    stopXenstored(home);
    rmSync(home, { recursive: true, force: true });
  }
});

test('managed save: listed as saved, xm start restores where it was and consumes the file', async () => {
  expect((await xm('new', config('ms1'))).code).toBe(0);
  expect((await xm('start', 'ms1')).code).toBe(0);
  const runtimeDir = join(home, 'run/domains/ms1');
  let serial = await SerialConsole.attach(runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  await serial.run('echo before-save > /tmp/mark');
  const upBefore = await uptime(serial);
  serial.close();

  const saved = await client.call('domain.managedSave', { name: 'ms1' });
  const file = join(home, 'data/save/ms1.save');
  expect(saved.path).toBe(file);
  expect(saved.bytes).toBeGreaterThan(1024 * 1024);
  expect(existsSync(file)).toBe(true);
  const row = (await client.call('domain.list')).find((r) => r.name === 'ms1')!;
  expect(row.status).toBe('halted');
  expect(row.saved).toBe(true);
  expect(row.domid).toBeUndefined();

  const started = await xm('start', 'ms1');
  expect(started.code, started.stderr).toBe(0);
  serial = await SerialConsole.attach(runtimeDir);
  try {
    // The guest's tmpfs still holds what was written before the save: no reboot.
    expect((await serial.run('cat /tmp/mark')).trim()).toBe('before-save');
    expect(await uptime(serial)).toBeGreaterThan(upBefore);
    expect(serial.text).not.toContain('DOM0-GUEST-READY');
  } finally {
    serial.close();
  }
  expect(existsSync(file)).toBe(false);
  const after = (await client.call('domain.list')).find((r) => r.name === 'ms1')!;
  expect(after.status).toBe('running');
  expect(after.saved).toBeUndefined();

  // Saved again, then deleted: the save file goes with the definition.
  await client.call('domain.managedSave', { name: 'ms1' });
  expect(existsSync(file)).toBe(true);
  expect((await xm('delete', 'ms1')).code).toBe(0);
  expect(existsSync(file)).toBe(false);
});

test('a domain that is not defined is refused and keeps running', async () => {
  expect((await xm('create', config('ms2'))).code).toBe(0);
  const serial = await SerialConsole.attach(join(home, 'run/domains/ms2'));
  try {
    await serial.waitFor(READY, { timeoutMs: 120_000 });
  } finally {
    serial.close();
  }
  await expect(client.call('domain.managedSave', { name: 'ms2' })).rejects.toThrow(/not defined.*xm save ms2 <file>/);
  expect((await client.call('domain.list')).find((r) => r.name === 'ms2')?.status).toBe('running');
  expect(existsSync(join(home, 'data/save/ms2.save'))).toBe(false);
});
