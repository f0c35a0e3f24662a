// Bad input at start: each refusal says what to do, and nothing is started or left behind.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { DomainManager } from '../../engine/domains/index.js';
import { findQemuSystem, PreflightError, QemuNotFoundError, QemuStartError } from '../../engine/qemu/index.js';
import { guestConfig, startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine | undefined;

afterEach(async () => {
  await engine?.dispose();
  engine = undefined;
});

function runtimeLeftovers(e: TestEngine): string[] {
  const dir = join(e.paths.runtimeDir, 'domains');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function qemuProcessesFor(name: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return cmdline(p).includes(`guest=${name},`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function cmdline(pid: string): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

describe('refusing to start, cleanly', () => {
  test('a missing kernel is reported before QEMU starts', async () => {
    engine = startTestEngine();
    const config = { ...guestConfig('err-kernel'), kernel: '/nonexistent/vmlinuz' };
    await expect(engine.manager.create(config)).rejects.toThrow(PreflightError);
    await expect(engine.manager.create(config)).rejects.toThrow(/kernel \/nonexistent\/vmlinuz does not exist/);
    expect(runtimeLeftovers(engine)).toEqual([]);
    expect(qemuProcessesFor('err-kernel')).toEqual([]);
  });

  test('a missing disk image and a missing bridge are both named, with what to do', async () => {
    engine = startTestEngine();
    const config = guestConfig('err-disk', "disk = ['file:/nonexistent/disk.img,xvda,w']\nvif = ['bridge=dom0nosuchbr']");
    const err = (await engine.manager.create(config).then(() => new Error('create succeeded'), (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PreflightError);
    expect(err.message).toMatch(/disk xvda: \/nonexistent\/disk.img does not exist; create the image/);
    expect(err.message).toMatch(/bridge dom0nosuchbr does not exist; create it .* or use NAT by removing bridge=/);
    expect(runtimeLeftovers(engine)).toEqual([]);
  });

  test("QEMU exiting at start puts its stderr in the error and leaves no runtime files", async () => {
    engine = startTestEngine();
    // A raw file declared as qcow2: only QEMU can tell, and it refuses at start.
    const image = join(engine.home, 'not-qcow2.img');
    writeFileSync(image, Buffer.alloc(1024 * 1024));
    const config = guestConfig('err-qemu', `disk = ['tap:qcow2:${image},xvda,w']`);
    const err = (await engine.manager.create(config).then(() => new Error('create succeeded'), (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(QemuStartError);
    // Which domain, what happened, what to change; then QEMU's own words.
    expect(err.message).toMatch(/^Domain err-qemu did not start: QEMU exited while starting/);
    expect(err.message).toMatch(/fix the format \(tap:qcow2: or file:\) or convert the image/);
    expect((err as QemuStartError).stderr).toMatch(/qcow2/i);
    expect(runtimeLeftovers(engine)).toEqual([]);
    expect(qemuProcessesFor('err-qemu')).toEqual([]);
    expect(engine.manager.list()).toEqual([]);
  });

  test('more memory than the host has is refused before QEMU starts, naming the domain and what to lower', async () => {
    engine = startTestEngine();
    const hostMiB = Math.floor(totalmem() / 1048576);
    const config = guestConfig('err-mem', `memory = ${hostMiB + 1024}`);
    const err = (await engine.manager.create(config).then(() => new Error('create succeeded'), (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(PreflightError);
    expect(err.message).toContain('cannot start domain err-mem');
    expect(err.message).toContain(`memory: ${hostMiB + 1024} MiB is more than this host has (${hostMiB} MiB); lower it`);
    expect(qemuProcessesFor('err-mem')).toEqual([]);
  });

  test('QEMU closing its QMP socket just before it exits is still reported as its exit, with its stderr', async () => {
    engine = startTestEngine();
    const fake = join(import.meta.dirname, '../fixtures/fake-qemu/closes-qmp-then-exits.mjs');
    const manager = new DomainManager({ paths: engine.paths, qemuBinary: fake, accel: 'tcg' });
    const err = (await manager.create(guestConfig('err-race')).then(() => new Error('create succeeded'), (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(QemuStartError);
    expect(err.message).toMatch(/QEMU exited while starting \(exit status 1\)/);
    expect((err as QemuStartError).stderr).toMatch(/not in qcow2 format/);
    expect(runtimeLeftovers(engine)).toEqual([]);
  });

  test('a missing QEMU binary names the packages to install', () => {
    expect(() => findQemuSystem({ PATH: '/nonexistent' })).toThrow(QemuNotFoundError);
    expect(() => findQemuSystem({ PATH: '/nonexistent' })).toThrow(/apt-get install qemu-system-x86 qemu-utils/);
    expect(() => findQemuSystem({ PATH: '/nonexistent', DOM0_QEMU: '/nonexistent/qemu' })).toThrow(/DOM0_QEMU/);
  });

  test('a manager pointed at a QEMU that is not there fails the create with a clear error', async () => {
    engine = startTestEngine();
    const manager = new DomainManager({ paths: engine.paths, qemuBinary: '/nonexistent/qemu-system-x86_64', accel: 'tcg' });
    await expect(manager.create(guestConfig('err-bin'))).rejects.toThrow(/QEMU could not be started|QEMU exited while starting/);
    expect(runtimeLeftovers(engine)).toEqual([]);
  });

  test('two domains cannot share a name', async () => {
    engine = startTestEngine();
    await engine.manager.create(guestConfig('err-dup'), { paused: true });
    await expect(engine.manager.create(guestConfig('err-dup'))).rejects.toThrow(/already exists/);
    expect(engine.manager.list()).toHaveLength(1);
  });
});
