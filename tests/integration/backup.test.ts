// Backups of real guests: a backup taken while the guest keeps writing restores to a bootable
// domain holding the data written before the backup started; a stopped domain is copied and
// archived ("stop and tar"); archives with foreign member names are refused before extraction.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DomainDefinitions } from '../../engine/domains/index.js';
import { backupDomain, restoreBackup, type BackupContext } from '../../engine/migration/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

let engine: TestEngine;
let ctx: BackupContext;

beforeAll(() => {
  engine = startTestEngine();
  ctx = { manager: engine.manager, definitions: new DomainDefinitions(engine.paths.domainConfigDir), paths: engine.paths };
});

afterAll(async () => {
  await engine?.dispose();
});

async function boot(name: string): Promise<SerialConsole> {
  const info = await engine.manager.create((await ctx.definitions.get(name))!.config);
  const serial = await SerialConsole.attach(info.runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  return serial;
}

describe('backups', () => {
  test('a live backup while the guest writes restores to a bootable guest with the earlier data', async () => {
    const disk = join(engine.home, 'live.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    await ctx.definitions.define(guestConfig('live', `disk = ['tap:qcow2:${disk},xvda,w']\nvif = ['']`));
    const serial = await boot('live');
    await serial.run('printf "before-backup-01" > /dev/vda; sync');
    // The guest keeps writing elsewhere on the disk during the backup.
    serial.send('(while true; do dd if=/dev/urandom of=/dev/vda bs=4096 seek=64 count=256 2>/dev/null; sync; done) &\n');
    const progress: number[] = [];
    const result = await backupDomain(ctx, 'live', undefined, { onProgress: (p) => progress.push(p.current) });
    expect(result.method).toBe('live');
    expect(result.path).toMatch(/\/backups\/live-\d{8}-\d{6}\.tar\.gz$/);
    expect(progress.length).toBeGreaterThan(0);
    expect(engine.manager.info('live').status).toBe('running');
    expect(await serial.run('echo still-running')).toContain('still-running');
    serial.close();
    expect(execFileSync('tar', ['-tzf', result.path], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual([
      'disks/',
      'disks/xvda.qcow2',
      'domain.cfg',
      'manifest.json',
    ]);

    const restored = await restoreBackup(ctx, result.path, { name: 'live-restored' });
    expect(restored.config.uuid).not.toBe(engine.manager.info('live').uuid);
    expect(restored.config.disk[0]!.target).toBe(join(engine.paths.imagesDir, 'live-restored-xvda.qcow2'));
    await engine.manager.destroy('live');
    const again = await boot('live-restored');
    expect((await again.run('dd if=/dev/vda bs=16 count=1 2>/dev/null')).trim()).toBe('before-backup-01');
    again.close();
    await engine.manager.destroy('live-restored');
    // Same name without replace is refused; with replace it overwrites the stopped domain.
    await expect(restoreBackup(ctx, result.path, { name: 'live-restored' })).rejects.toThrow(/exists; restore under another name/);
    const replaced = await restoreBackup(ctx, result.path, { name: 'live-restored', replace: true });
    expect(replaced.name).toBe('live-restored');
  });

  test('a stopped domain is copied and archived; restoring under its own name keeps its identity', async () => {
    const raw = join(engine.home, 'cold.img');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '4M']);
    writeFileSync(raw, 'cold-data-000001', { flag: 'r+' });
    const def = await ctx.definitions.define(guestConfig('cold', `disk = ['file:${raw},xvda,w']\nuuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"`));
    const dir = join(engine.home, 'mybackups');
    mkdirSync(dir);
    const result = await backupDomain(ctx, 'cold', dir);
    expect(result.method).toBe('stopped');
    expect(readdirSync(dir)).toEqual([result.path.slice(dir.length + 1)]);
    await ctx.definitions.remove('cold');
    const back = await restoreBackup(ctx, result.path);
    expect(back.config.uuid).toBe(def.config.uuid);
    const serial = await boot('cold');
    expect((await serial.run('dd if=/dev/vda bs=16 count=1 2>/dev/null')).trim()).toBe('cold-data-000001');
    serial.close();
    await engine.manager.destroy('cold');
  });

  test('an archive with other member names is refused before anything is extracted', async () => {
    const evil = join(engine.home, 'evil');
    mkdirSync(join(evil, 'x'), { recursive: true });
    writeFileSync(join(evil, 'manifest.json'), '{}');
    writeFileSync(join(evil, 'domain.cfg'), '');
    writeFileSync(join(evil, 'x', 'payload'), 'boom');
    const archive = join(engine.home, 'evil.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', evil, 'manifest.json', 'domain.cfg', 'x']);
    await expect(restoreBackup(ctx, archive)).rejects.toThrow(/not a Dom0 backup archive \(unexpected member 'x\//);
  });
});
