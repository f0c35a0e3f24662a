// The one qemu-img wrapper, against the real qemu-img: what it refuses before running anything,
// and that each operation does what the rooms (install, storage, snapshots, clones, backups) use.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { QemuImg, QemuImgError } from '../../engine/qemu/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dom0-qemu-img-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const img = new QemuImg();

async function failure(p: Promise<unknown>): Promise<QemuImgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QemuImgError);
  return err as QemuImgError;
}

describe('QemuImg', () => {
  test('create, info, resize: sizes and formats as qemu-img reports them', async () => {
    const raw = join(dir, 'a.img');
    await img.create({ path: raw, format: 'raw', size: 4 * 1024 * 1024 });
    expect(await img.info(raw)).toMatchObject({ format: 'raw', virtualSize: 4 * 1024 * 1024 });
    await img.resize({ path: raw, format: 'raw', size: 8 * 1024 * 1024, shrink: false });
    expect((await img.info(raw)).virtualSize).toBe(8 * 1024 * 1024);

    // A backing file without a size: the overlay takes the backing file's size.
    const overlay = join(dir, 'over.qcow2');
    await img.create({ path: overlay, format: 'qcow2', backing: { path: raw, format: 'raw' } });
    expect(await img.info(overlay)).toMatchObject({ format: 'qcow2', virtualSize: 8 * 1024 * 1024, backingFile: raw });
  });

  test('refuses relative paths, control characters, bad sizes and formats, and never overwrites', async () => {
    expect((await failure(img.info('rel.img'))).reason).toBe('bad-argument');
    expect((await failure(img.create({ path: join(dir, 'x\ny.img'), format: 'raw', size: 1024 }))).reason).toBe('bad-argument');
    expect((await failure(img.create({ path: join(dir, 'z.img'), format: 'raw', size: 0 }))).reason).toBe('bad-argument');
    expect((await failure(img.convert({ source: join(dir, 'a.img'), target: join(dir, 'c.img'), format: 'raw,x=y' }))).reason).toBe('bad-argument');
    expect((await failure(img.snapshot('create', '', join(dir, 'over.qcow2')))).reason).toBe('bad-argument');

    const kept = join(dir, 'kept.img');
    writeFileSync(kept, 'precious');
    const exists = await failure(img.create({ path: kept, format: 'raw', size: 1024 }));
    expect(exists.reason).toBe('exists');
    expect(exists.message).toMatch(/exists already/);
    expect(readFileSync(kept, 'utf8')).toBe('precious');
  });

  test("a file name that looks like an option or a protocol is only a file name", async () => {
    const odd = join(dir, '-f json:{}.img');
    await img.create({ path: odd, format: 'raw', size: 1024 * 1024 });
    expect(await img.info(odd)).toMatchObject({ format: 'raw', virtualSize: 1024 * 1024 });
  });

  test('convert reports progress up to 100 and keeps the format asked for', async () => {
    const seen: number[] = [];
    const target = join(dir, 'copy.qcow2');
    await img.convert({ source: join(dir, 'a.img'), target, format: 'qcow2', onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toBe(100);
    expect(await img.info(target)).toMatchObject({ format: 'qcow2', virtualSize: 8 * 1024 * 1024 });

    const quiet = join(dir, 'copy2.qcow2');
    await img.convert({ source: target, sourceFormat: 'qcow2', target: quiet, format: 'qcow2' });
    expect((await img.info(quiet)).format).toBe('qcow2');
  });

  test("qemu-img's own complaint is the message", async () => {
    const err = await failure(img.convert({ source: join(dir, 'missing.img'), target: join(dir, 'never.img'), format: 'raw' }));
    expect(err.reason).toBe('failed');
    expect(err.message).toMatch(/^qemu-img convert failed: .*missing\.img/);
    expect((await failure(img.info(join(dir, 'missing.img')))).message).toMatch(/^qemu-img info failed: /);
  });

  test('internal snapshots: create, apply, delete', async () => {
    const q = join(dir, 'snap.qcow2');
    await img.create({ path: q, format: 'qcow2', size: 1024 * 1024 });
    await img.snapshot('create', 'first', q);
    await img.snapshot('apply', 'first', q);
    await img.snapshot('delete', 'first', q);
    expect((await failure(img.snapshot('apply', 'first', q))).message).toMatch(/^qemu-img snapshot failed: /);
  });
});
