// Storage pools and volumes through xm and a real xend: create (qcow2, raw preallocated, overlay),
// list with used-by, refusals (delete in use, shrink), import with progress, clone, a second
// pool; block-attach / block-detach on a running guest persisted to its definition; a volume
// grown while a guest uses it is seen by the guest.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StoragePools } from '../../engine/storage/index.js';
import { resolvePaths } from '../../engine/common/paths.js';
import { findQemuImg } from '../../engine/qemu/index.js';
import { READY } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';
import { guestUntil } from './helpers/guest.js';
import { XendProcess } from './helpers/xend-process.js';

let x: XendProcess;
let images: string;

beforeAll(async () => {
  x = await XendProcess.start();
  images = join(x.home, 'data/images');
}, 60_000);

afterAll(async () => {
  await x?.stop(['st-guest']);
});


describe('storage pools and volumes (xm)', () => {
  test('pool-list shows the default pool with its free space', async () => {
    const out = await x.xmOk('pool-list');
    const [head, row] = out.split('\n');
    expect(head).toMatch(/^Name\s+Type\s+Capacity\s+Allocation\s+Available\s+Vols\s+Path$/);
    expect(row).toMatch(new RegExp(`^default\\s+dir\\s+[\\d.]+ [KMGT]iB\\s+[\\d.]+ [KMGT]iB\\s+[\\d.]+ [KMGT]iB\\s+0 ${images}$`));
  });

  test('vol-create: sparse qcow2, preallocated raw, a qcow2 overlay; vol-list shows them', async () => {
    expect(await x.xmOk('vol-create', 'default', 'a.qcow2', '16M')).toContain(`Volume a.qcow2 created: ${images}/a.qcow2 (qcow2, 16.00 MiB)`);
    await x.xmOk('vol-create', '--format=raw', '--prealloc', 'default', 'b.raw', '8M');
    await x.xmOk('vol-create', `--backing=${images}/a.qcow2`, 'default', 'c.qcow2', '0');
    // Preallocated: the blocks are reserved now; the sparse qcow2 takes far less than its size.
    expect(statSync(join(images, 'b.raw')).blocks * 512).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    const list = await x.xmOk('vol-list', 'default');
    expect(list).toMatch(/^Name\s+Format\s+Capacity\s+Allocation\s+Used-by\s+Path$/m);
    expect(list).toMatch(/^a\.qcow2\s+qcow2\s+16\.00 MiB\s+[\d.]+ KiB\s+-\s+/m);
    expect(list).toMatch(/^b\.raw\s+raw\s+8\.00 MiB\s+8\.00 MiB\s+-/m);
    expect(list).toMatch(/^c\.qcow2\s+qcow2\s+16\.00 MiB\s/m);
    const info = JSON.parse(execFileSync(findQemuImg(), ['info', '--output=json', join(images, 'c.qcow2')], { encoding: 'utf8' })) as { 'backing-filename': string };
    expect(info['backing-filename']).toBe(join(images, 'a.qcow2'));
    expect((await x.xmOk('pool-list')).split('\n')[1]).toMatch(/\s3 \//);
  });

  test('bad input: names, sizes, existing volumes, shrinking without --force', async () => {
    let r = await x.xm('vol-create', 'default', '../evil', '1M');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/'..\/evil' is not a valid volume name/);
    r = await x.xm('vol-create', 'default', 'a.qcow2', '1M');
    expect(r.stderr).toMatch(/volume a\.qcow2 exists in pool default already/);
    r = await x.xm('vol-create', 'default', 'z.img', 'lots');
    expect(r.stderr).toMatch(/'lots' is not a size/);
    r = await x.xm('vol-create', 'nopool', 'z.img', '1M');
    expect(r.stderr).toMatch(/no storage pool 'nopool'/);
    r = await x.xm('vol-resize', 'default', 'a.qcow2', '4M');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/smaller than the volume .* force it/);
    // Forced, an unused volume may shrink.
    await x.xmOk('vol-resize', '--force', 'default', 'c.qcow2', '8M');
    expect(await x.xmOk('vol-list')).toMatch(/^c\.qcow2\s+qcow2\s+8\.00 MiB/m);
  });

  test('vol-import converts an image with progress; vol-clone copies; a second pool', async () => {
    const src = join(x.home, 'source.raw');
    const data = Buffer.alloc(4 * 1024 * 1024);
    data.write('imported-image-content');
    writeFileSync(src, data);
    const r = await x.xm('vol-import', 'default', 'imp.qcow2', src);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('(100.00/100%)');
    expect(r.stdout).toContain('Volume imp.qcow2 created');
    const back = join(x.home, 'back.raw');
    execFileSync(findQemuImg(), ['convert', '-O', 'raw', join(images, 'imp.qcow2'), back]);
    expect(readFileSync(back).subarray(0, 22).toString()).toBe('imported-image-content');

    const extra = join(x.home, 'pool2');
    mkdirSync(extra);
    await x.xmOk('pool-define', 'extra', extra);
    await x.xmOk('vol-clone', '--pool=extra', 'default', 'imp.qcow2', 'copy.qcow2');
    expect(await x.xmOk('vol-list', 'extra')).toMatch(/^copy\.qcow2\s+qcow2\s+4\.00 MiB/m);
    expect(await x.xmOk('pool-list')).toMatch(new RegExp(`^extra\\s+dir\\s.*\\s1 ${extra}$`, 'm'));
    // No half-written leftovers of the copies.
    expect(execFileSync('ls', ['-a', extra], { encoding: 'utf8' })).not.toContain('.part');
  });

  test('a volume in use: used-by, delete refused; hot attach/detach persisted; live resize seen by the guest', async () => {
    const cfg = x.guestCfg('st-guest', [`disk = ['file:${images}/b.raw,xvda,w']`]);
    await x.xmOk('new', cfg);
    expect(await x.xmOk('vol-list')).toMatch(/^b\.raw\s+raw\s+8\.00 MiB\s+8\.00 MiB\s+st-guest\s/m);
    const del = await x.xm('vol-delete', 'default', 'b.raw');
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/volume b\.raw is used by st-guest; remove it from its config first/);

    await x.xmOk('start', '-p', 'st-guest');
    const serial = await SerialConsole.attach(x.runtimeDir('st-guest'));
    try {
      await x.xmOk('unpause', 'st-guest');
      await serial.waitFor(READY, { timeoutMs: 120_000 });
      expect((await serial.run('cat /sys/block/vda/size')).trim()).toBe('16384');

      // Grow the volume while the guest has it: QEMU resizes it, the guest's disk follows.
      expect(await x.xmOk('vol-resize', 'default', 'b.raw', '+8M')).toContain('resized to 16.00 MiB');
      await guestUntil(serial, 'cat /sys/block/vda/size', (o) => o.trim() === '32768');

      // block-attach a volume by its pool path; the guest sees it; the definition keeps it.
      await x.xmOk('block-attach', 'st-guest', `tap:qcow2:${images}/a.qcow2`, 'xvdb', 'w');
      await guestUntil(serial, 'cat /sys/block/vdb/size 2>/dev/null || echo none', (o) => o.trim() === '32768');
      const blocks = await x.xmOk('block-list', 'st-guest');
      expect(blocks.split('\n')[0]).toBe('Vdev  BE handle state evt-ch ring-ref BE-path');
      expect(blocks).toMatch(/^51712\s+0\s+0\s+4\s+-\s+-\s+\/local\/domain\/\d+\/?.*51712$/m);
      expect(blocks).toMatch(/^51728 .*\/local\/domain\/0\/backend\/vbd\/\d+\/51728$/m);
      const def = readFileSync(join(x.home, 'config/domains/st-guest.cfg'), 'utf8');
      expect(def).toContain(`tap:qcow2:${images}/a.qcow2,xvdb,w`);
      expect(await x.xmOk('vol-list')).toMatch(/^a\.qcow2\s.*\sst-guest\s/m);
      await serial.run(`echo from-guest-vdb > /dev/vdb; sync`);

      await x.xmOk('block-detach', 'st-guest', '51728');
      await guestUntil(serial, 'ls /sys/block', (o) => !/\bvdb\b/.test(o));
      expect(readFileSync(join(x.home, 'config/domains/st-guest.cfg'), 'utf8')).not.toContain('xvdb');
      expect(await x.xmOk('block-list', 'st-guest')).not.toMatch(/^51728/m);
      // What the guest wrote is in the qcow2 image.
      const out = join(x.home, 'a-out.raw');
      execFileSync(findQemuImg(), ['convert', '-O', 'raw', join(images, 'a.qcow2'), out]);
      expect(readFileSync(out).subarray(0, 14).toString()).toBe('from-guest-vdb');
    } finally {
      serial.close();
    }
    await x.xmOk('destroy', 'st-guest');
    // Halted and still defined: the volume stays in use.
    expect((await x.xm('vol-delete', 'default', 'b.raw')).code).toBe(1);
    await x.xmOk('delete', 'st-guest');
    await x.xmOk('vol-delete', 'default', 'b.raw');
    expect(await x.xmOk('vol-list')).not.toMatch(/^b\.raw/m);
  }, 240_000);

  test('remote clients may only name images inside a pool', async () => {
    // The same pool object xend uses, asked as a remote (non-unix) client would be answered.
    const pools = new StoragePools({ paths: resolvePaths({ DOM0_HOME: x.home }), qemuImg: findQemuImg(), usedBy: async () => new Map() });
    const outside = join(x.home, 'source.raw');
    await expect(pools.checkPath(outside, false)).rejects.toThrow(/outside the storage pools; remote clients may only use volumes of a pool/);
    await expect(pools.checkPath(outside, true)).resolves.toBe(outside);
    await expect(pools.checkPath(join(images, 'a.qcow2'), false)).resolves.toBe(join(images, 'a.qcow2'));
    await expect(pools.checkPath(`${images}/../../source.raw`, false)).rejects.toThrow(/outside the storage pools/);
    await expect(pools.checkPath('relative.img', true)).rejects.toThrow(/absolute path/);
  });
});
