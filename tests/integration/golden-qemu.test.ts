// `xm create -n` and a real start never disagree: the argv of every golden case in
// tests/golden/qemu-argv (Xen's own example configs among them) is handed to the real QEMU, which
// must accept it and reach the paused prelaunch state; then it is told to quit over QMP.
//
// Only what cannot exist on a test host is swapped, in the config before the argv is built, so
// the argv is still the generator's own: kernels become the test guest's, every disk image a
// fresh one of the case's format, phy: devices loop devices over such images (QEMU's host_device
// and host_cdrom drivers then really open a block device), nbd: disks a qemu-nbd export on
// loopback, and bridged vifs user-mode NAT (no bridge exists here).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadDomainConfigText, type DiskSpec, type DomainConfig } from '../../engine/config/index.js';
import { findQemuSystem } from '../../engine/qemu/index.js';
import { planQemu, qemuArgv } from '../../engine/qemu/argv/index.js';
import { connectWithRetry } from '../../engine/qemu/qmp/index.js';
import { GUEST_INITRD, GUEST_KERNEL, requireGuest } from './helpers/engine.js';

const dir = join(import.meta.dirname, '../golden/qemu-argv');
const header = (text: string, key: string): string | undefined => new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1]?.trim();
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.cfg'))
  .sort()
  .map((f) => ({ name: f.replace(/\.cfg$/, ''), path: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }))
  .filter((c) => header(c.text, 'EXPECT_ERROR') === undefined);

const work = mkdtempSync('/tmp/d0g-');
const loops: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const l of loops) {
    try {
      execFileSync('losetup', ['-d', l]);
    } catch {
      /* already gone */
    }
  }
  rmSync(work, { recursive: true, force: true });
});

let counter = 0;
function image(format: string): string {
  const path = join(work, `img${counter++}.${format}`);
  execFileSync('qemu-img', ['create', '-q', '-f', format === 'qcow' ? 'qcow' : format, path, '64M']);
  return path;
}

function loopDevice(): string | undefined {
  try {
    const dev = execFileSync('losetup', ['--find', '--show', image('raw')], { encoding: 'utf8' }).trim();
    loops.push(dev);
    return dev;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A qemu-nbd export of a fresh image on loopback, ready when its port accepts connections. */
async function nbdExport(): Promise<string> {
  const port = await freePort();
  const child = spawn('qemu-nbd', ['--persistent', '--bind=127.0.0.1', `--port=${port}`, '--format=raw', image('raw')], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return `127.0.0.1 ${port}`;
    if (Date.now() > deadline) throw new Error(`qemu-nbd did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function hostDisk(d: DiskSpec): Promise<DiskSpec> {
  if (d.target === '') return d;
  if (d.backend === 'nbd') return { ...d, target: await nbdExport() };
  // A LUN needs a target: tests/integration/iscsi.test.ts starts one (tgtd) and boots from it; here
  // the rest of the case's argv is what is checked, so the LUN becomes a local image.
  if (d.backend === 'iscsi') return { ...d, backend: 'file', target: image('raw') };
  if (d.backend === 'phy') {
    const dev = loopDevice();
    return dev ? { ...d, target: dev } : { ...d, backend: 'file', target: image('raw') };
  }
  return { ...d, target: image(d.format) };
}

async function onThisHost(config: DomainConfig): Promise<DomainConfig> {
  const disk: DiskSpec[] = [];
  for (const d of config.disk) disk.push(await hostDisk(d));
  const out: DomainConfig = { ...config, disk, vif: config.vif.map(({ bridge: _bridge, vifname: _vifname, ...v }) => v) };
  if (config.kernel) out.kernel = GUEST_KERNEL;
  if (config.ramdisk) out.ramdisk = GUEST_INITRD;
  return out;
}

async function runPaused(name: string, config: DomainConfig): Promise<void> {
  const runtimeDir = join(work, `r${counter++}`);
  mkdirSync(runtimeDir);
  const { options } = planQemu(config, {
    accel: 'tcg',
    runtimeDir,
    macFor: (i) => `00:16:3e:00:00:${i.toString(16).padStart(2, '0')}`,
    uuid: '00000000-0000-4000-8000-000000000001',
  });
  const child = spawn(findQemuSystem(), qemuArgv(options), { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let client;
  try {
    client = await connectWithRetry(join(runtimeDir, 'qmp.sock'), { deadlineMs: 20_000 });
  } catch (e) {
    // QEMU exits when it refuses an option: wait for that, so the failure shows its reason.
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 5_000))]);
    throw new Error(`${name}: QEMU refused the argv (exit ${String(code)}): ${stderr || String(e)}`);
  }
  const status = await client.execute<{ status: string }>('query-status');
  expect(status.status, name).toBe('prelaunch');
  await client.execute('quit').catch(() => undefined);
  expect(await exited, `${name}: ${stderr}`).toBe(0);
  expect(stderr, name).not.toMatch(/error/i);
}

describe('every golden config starts under the real QEMU', () => {
  test('there are golden cases to start, Xen examples among them', () => {
    requireGuest();
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.filter((c) => c.name.startsWith('xen')).length).toBeGreaterThanOrEqual(10);
  });

  for (const c of cases) {
    test(c.name, async () => {
      const args = header(c.text, 'ARGS')?.split(/\s+/) ?? [];
      const { config } = loadDomainConfigText(c.text, c.path, args);
      await runPaused(c.name, await onThisHost(config));
    }, 60_000);
  }
});
