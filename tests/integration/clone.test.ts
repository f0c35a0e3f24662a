// Clone on real images: full and linked clones get a new uuid and MACs, boot, and see the source's
// data on their own disk; writing in a clone leaves the source alone; a running source is refused
// and a failed clone leaves no images behind.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DomainDefinitions } from '../../engine/domains/index.js';
import { cloneDomain } from '../../engine/migration/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

let engine: TestEngine;
let definitions: DomainDefinitions;

beforeAll(() => {
  engine = startTestEngine();
  definitions = new DomainDefinitions(engine.paths.domainConfigDir);
});

afterAll(async () => {
  await engine?.dispose();
});

async function bootAndRead(name: string): Promise<{ block: string; serial: SerialConsole }> {
  const def = (await definitions.get(name))!;
  const info = await engine.manager.create(def.config);
  const serial = await SerialConsole.attach(info.runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  const block = (await serial.run('dd if=/dev/vda bs=16 count=1 2>/dev/null')).replace(/\n$/, '');
  return { block, serial };
}

describe('clone', () => {
  test('full and linked clones: new identity, own disks with the source data', async () => {
    const raw = join(engine.home, 'src.img');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '8M']);
    writeFileSync(raw, 'source-data-0001', { flag: 'r+' });
    const src = await definitions.define(guestConfig('src', `disk = ['file:${raw},xvda,w']\nvif = ['mac=00:16:3e:00:00:01']\nuuid = "11111111-2222-3333-4444-555555555555"`));

    const full = await cloneDomain({ manager: engine.manager, definitions, paths: engine.paths }, 'src', 'copy1');
    expect(full.config.uuid).not.toBe(src.config.uuid);
    expect(full.config.vif[0]!.mac).toMatch(/^00:16:3e:/);
    expect(full.config.vif[0]!.mac).not.toBe('00:16:3e:00:00:01');
    expect(full.config.disk[0]!.target).toBe(join(engine.paths.imagesDir, 'copy1-xvda.img'));
    expect(full.config.disk[0]!.format).toBe('raw');

    const linked = await cloneDomain({ manager: engine.manager, definitions, paths: engine.paths }, 'src', 'link1', { linked: true });
    expect(linked.config.disk[0]).toMatchObject({ target: join(engine.paths.imagesDir, 'link1-xvda.qcow2'), format: 'qcow2', backend: 'tap' });
    expect(execFileSync('qemu-img', ['info', '-U', linked.config.disk[0]!.target], { encoding: 'utf8' })).toContain(`backing file: ${raw}`);

    const a = await bootAndRead('copy1');
    expect(a.block).toBe('source-data-0001');
    expect(engine.manager.info('copy1').macs).toEqual([full.config.vif[0]!.mac]);
    await a.serial.run('printf "clone-wrote-this" > /dev/vda; sync');
    a.serial.close();
    await engine.manager.destroy('copy1');

    const b = await bootAndRead('link1');
    expect(b.block).toBe('source-data-0001');
    await b.serial.run('printf "linked-wrote-it!" > /dev/vda; sync');
    b.serial.close();
    await engine.manager.destroy('link1');
    // Neither clone wrote to the source image.
    expect(readFileSync(raw).subarray(0, 16).toString()).toBe('source-data-0001');
  });

  test('refused while the source runs, for a taken name, and leaves nothing on failure', async () => {
    const ctx = { manager: engine.manager, definitions, paths: engine.paths };
    await expect(cloneDomain(ctx, 'src', 'copy1')).rejects.toThrow(/already exists/);
    await expect(cloneDomain(ctx, 'src', 'bad name')).rejects.toThrow(/not a valid domain name/);
    await expect(cloneDomain(ctx, 'nosuch', 'x')).rejects.toThrow(/does not exist/);
    // A source whose image vanished: qemu-img fails, no half-made clone remains.
    const gone = join(engine.home, 'gone.img');
    await definitions.define(guestConfig('broken', `disk = ['file:${gone},xvda,w']`));
    await expect(cloneDomain(ctx, 'broken', 'copy2')).rejects.toThrow(/qemu-img convert failed/);
    expect(readdirSync(engine.paths.imagesDir).filter((f) => f.startsWith('copy2'))).toEqual([]);
    expect(await definitions.get('copy2')).toBeUndefined();
    const info = await engine.manager.create((await definitions.get('src'))!.config);
    await expect(cloneDomain(ctx, 'src', 'copy3')).rejects.toThrow(/is running; shut it down before cloning/);
    await engine.manager.destroy(info.domid);
    expect(existsSync(join(engine.paths.imagesDir, 'copy3-xvda.img'))).toBe(false);
  });
});
