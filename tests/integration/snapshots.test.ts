// Snapshots on real qcow2 images: a running guest reverts to a snapshot with memory and finds the
// old content of a block it overwrote; a stopped domain's disk-only snapshots form a tree;
// raw disks are refused with a message that says what to do.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DomainDefinitions } from '../../engine/domains/index.js';
import { Snapshots } from '../../engine/migration/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

let engine: TestEngine;
let snapshots: Snapshots;
let definitions: DomainDefinitions;

beforeAll(() => {
  engine = startTestEngine();
  definitions = new DomainDefinitions(engine.paths.domainConfigDir);
  snapshots = new Snapshots({ manager: engine.manager, definitions, paths: engine.paths });
});

afterAll(async () => {
  await engine?.dispose();
});

function qcow2(name: string): string {
  const path = join(engine.home, `${name}.qcow2`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, '16M']);
  return path;
}

/** The first 16 bytes of /dev/vda, read past the page cache. */
async function readBlock(serial: SerialConsole): Promise<string> {
  const out = await serial.run('dd if=/dev/vda bs=16 count=1 2>/dev/null');
  return out.replace(/\n$/, '');
}

describe('snapshots', () => {
  test('a running domain reverts to a snapshot with memory: the overwritten block has its old content', async () => {
    const disk = qcow2('snap1');
    const info = await engine.manager.create(guestConfig('snap1', `disk = ['tap:qcow2:${disk},xvda,w']\nvif = ['']`));
    const serial = await SerialConsole.attach(info.runtimeDir);
    await serial.waitFor(READY, { timeoutMs: 120_000 });
    await serial.run('printf "old-content-1234" > /dev/vda; sync');
    const snap = await snapshots.create('snap1', 'before', 'the old block');
    expect(snap).toMatchObject({ name: 'before', state: 'running', description: 'the old block', current: true });
    expect(snap.vmStateSize).toBeGreaterThan(0);
    await serial.run('printf "NEW-CONTENT-5678" > /dev/vda; sync');
    expect(await readBlock(serial)).toBe('NEW-CONTENT-5678');
    await snapshots.revert('snap1', 'before');
    expect(engine.manager.info('snap1').status).toBe('running');
    // The shell is back where it was when the snapshot was taken; it answers a new command.
    expect(await readBlock(serial)).toBe('old-content-1234');
    serial.close();
    // The image itself holds the snapshot.
    expect(execFileSync('qemu-img', ['snapshot', '-U', '-l', disk], { encoding: 'utf8' })).toContain('before');
    await snapshots.delete('snap1', 'before');
    expect(await snapshots.list('snap1')).toEqual([]);
    expect(execFileSync('qemu-img', ['snapshot', '-U', '-l', disk], { encoding: 'utf8' })).not.toContain('before');
    await engine.manager.destroy('snap1');
  });

  test('a stopped domain: disk-only snapshots, revert with qemu-img, the tree follows the current one', async () => {
    const disk = qcow2('snap2');
    await definitions.define(guestConfig('snap2', `disk = ['tap:qcow2:${disk},xvda,w']`));
    const s1 = await snapshots.create('snap2', 's1');
    expect(s1).toMatchObject({ state: 'shutoff', parent: undefined, vmStateSize: 0 });
    await snapshots.create('snap2', 's2', 'second');
    await snapshots.revert('snap2', 's1');
    await snapshots.create('snap2', 's3');
    const list = await snapshots.list('snap2');
    expect(list.map((s) => [s.name, s.parent, s.current])).toEqual([
      ['s1', undefined, false],
      ['s2', 's1', false],
      ['s3', 's1', true],
    ]);
    await expect(snapshots.create('snap2', 's1')).rejects.toThrow(/already has a snapshot 's1'/);
    await expect(snapshots.revert('snap2', 'nope')).rejects.toThrow(/has no snapshot 'nope'/);
    // Deleting s1 hangs its children from its parent (the root).
    await snapshots.delete('snap2', 's1');
    expect((await snapshots.list('snap2')).map((s) => [s.name, s.parent])).toEqual([
      ['s2', undefined],
      ['s3', undefined],
    ]);
    // A running domain cannot go back to a disk-only snapshot.
    await engine.manager.create((await definitions.get('snap2'))!.config);
    await expect(snapshots.revert('snap2', 's2')).rejects.toThrow(/disks only.*shut the domain down/);
    await engine.manager.destroy('snap2');
  });

  test('raw disks are refused with what to do', async () => {
    const raw = join(engine.home, 'raw.img');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '4M']);
    await definitions.define(guestConfig('snap3', `disk = ['file:${raw},xvda,w']`));
    await expect(snapshots.create('snap3', 'x')).rejects.toThrow(/snapshots need qcow2 disks.*xvda.*raw.*qemu-img convert -O qcow2/);
  });
});
