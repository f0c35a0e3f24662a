// Persistence: record framing and CRC, replay after a torn or corrupt tail, group commit,
// compaction (also interrupted half-way), and the tree round trip through journal and snapshot.

import { Buffer } from 'node:buffer';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, JournalCorruptError, crc32, decodeRecords, encodeRecord, openPersistentTree } from '../../engine/xenstore/index.js';
import type { JournalFiles, PersistentTree } from '../../engine/xenstore/index.js';

let dir: string;
let files: JournalFiles;
const open: PersistentTree[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xsj-'));
  files = { journal: join(dir, 'xenstore.journal'), snapshot: join(dir, 'xenstore.snapshot') };
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.journal.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openTree(opts: Parameters<typeof openPersistentTree>[1] = {}): Promise<PersistentTree> {
  const p = await openPersistentTree(files, opts);
  open.push(p);
  return p;
}

async function closeTree(p: PersistentTree): Promise<void> {
  open.splice(open.indexOf(p), 1);
  await p.journal.close();
}

describe('records', () => {
  it('crc32 is zlib CRC-32 (IEEE), also when continued', () => {
    const data = Buffer.from('123456789');
    expect(crc32(data)).toBe(0xcbf43926);
    expect(crc32(data.subarray(4), crc32(data.subarray(0, 4)))).toBe(0xcbf43926);
    if (typeof (zlib as { crc32?: unknown }).crc32 === 'function') expect(crc32(Buffer.from('xenstore'))).toBe(zlib.crc32('xenstore'));
  });

  it('decodes what it encodes, and stops at a torn or flipped record', () => {
    const recs = [{ a: 1 }, { b: 'two' }, { c: [3] }];
    const buf = Buffer.concat(recs.map(encodeRecord));
    expect(decodeRecords(buf)).toEqual({ records: recs, validBytes: buf.length });
    const firstTwo = encodeRecord(recs[0]).length + encodeRecord(recs[1]).length;
    for (let cut = firstTwo + 1; cut < buf.length; cut++) {
      const d = decodeRecords(buf.subarray(0, cut));
      expect(d.records).toEqual(recs.slice(0, 2));
      expect(d.validBytes).toBe(firstTwo);
    }
    for (let i = firstTwo; i < buf.length; i++) {
      const flipped = Buffer.from(buf);
      flipped[i] = (flipped[i] as number) ^ 0x40;
      const d = decodeRecords(flipped);
      expect(d.records).toEqual(recs.slice(0, 2));
      expect(d.problem).toBeDefined();
    }
  });
});

describe('journal and replay', () => {
  it('a reopened tree has every committed change', async () => {
    const p = await openTree();
    const c = p.tree.connect();
    c.write('/local/domain/1/name', 'guest');
    c.setPerms('/local/domain/1', [{ domid: 1, access: 'n' }]);
    const tx = c.transactionStart();
    c.write('/vm/u/name', 'guest', tx);
    c.rm('/tool', tx);
    c.transactionEnd(tx, true);
    await p.journal.whenDurable();
    const before = p.tree.snapshot();
    await closeTree(p);
    const q = await openTree();
    expect(q.replayedRecords).toBe(3);
    expect(q.droppedBytes).toBe(0);
    expect(q.tree.snapshot()).toEqual(before);
  });

  it('drops a torn final record (SIGKILL mid-write) and keeps the earlier ones', async () => {
    const p = await openTree();
    const c = p.tree.connect();
    c.write('/a', '1');
    c.write('/b', '2');
    await p.journal.whenDurable();
    const goodSize = statSync(files.journal).size;
    c.write('/c', 'x'.repeat(100));
    await closeTree(p);
    truncateSync(files.journal, goodSize + 20);
    const q = await openTree();
    expect(q.droppedBytes).toBe(20);
    expect(statSync(files.journal).size).toBe(goodSize);
    const r = q.tree.connect();
    expect([r.read('/a'), r.read('/b')]).toEqual(['1', '2']);
    expect(() => r.read('/c')).toThrow(/does not exist/);
    // Appends go after the good prefix, not after the garbage.
    r.write('/d', '4');
    await closeTree(q);
    const s = await openTree();
    expect(s.tree.connect().read('/d')).toBe('4');
    expect(s.droppedBytes).toBe(0);
  });

  it('drops a last record whose bytes were damaged', async () => {
    const p = await openTree();
    const c = p.tree.connect();
    c.write('/a', '1');
    await p.journal.whenDurable();
    const goodSize = statSync(files.journal).size;
    c.write('/b', '2');
    await closeTree(p);
    const buf = readFileSync(files.journal);
    buf[goodSize + 12] = (buf[goodSize + 12] as number) ^ 0xff;
    writeFileSync(files.journal, buf);
    const q = await openTree();
    expect(q.droppedBytes).toBe(buf.length - goodSize);
    expect(q.tree.connect().read('/a')).toBe('1');
    expect(() => q.tree.connect().read('/b')).toThrow(/does not exist/);
  });

  it('refuses a journal that is not one (damaged header), rather than starting empty', async () => {
    const p = await openTree();
    p.tree.connect().write('/a', '1');
    await closeTree(p);
    const buf = readFileSync(files.journal);
    buf[10] = (buf[10] as number) ^ 0xff;
    writeFileSync(files.journal, buf);
    await expect(openPersistentTree(files)).rejects.toBeInstanceOf(JournalCorruptError);
  });

  it('group commit: concurrent commits share fdatasyncs and each is acknowledged', async () => {
    const p = await openTree();
    const c = p.tree.connect();
    const seqs: number[] = [];
    for (let i = 0; i < 200; i++) {
      c.write(`/burst/k${i}`, String(i));
      seqs.push(p.journal.appendedSeq);
    }
    await Promise.all(seqs.map((s) => p.journal.whenDurable(s)));
    expect(p.journal.durableSeq).toBe(200);
    expect(p.journal.recordCount).toBe(200);
    expect(p.journal.syncCount).toBeLessThan(20);
    await closeTree(p);
    const q = await openTree();
    expect(q.tree.connect().directory('/burst')).toHaveLength(200);
  });
});

describe('compaction', () => {
  it('snapshot + new journal round trip', async () => {
    const p = await openTree();
    const c = p.tree.connect();
    for (let i = 0; i < 50; i++) c.write(`/k/${i}`, `v${i}`);
    c.rm('/k/7');
    await p.journal.compact();
    expect(p.journal.generation).toBe(1);
    expect(p.journal.recordCount).toBe(0);
    expect(existsSync(files.snapshot)).toBe(true);
    c.write('/after', 'compaction');
    c.setPerms('/k/1', [{ domid: 3, access: 'r' }]);
    await p.journal.whenDurable();
    const before = p.tree.snapshot();
    await closeTree(p);
    const q = await openTree();
    expect(q.replayedRecords).toBe(2);
    expect(q.tree.snapshot()).toEqual(before);
  });

  it('happens by itself past the record threshold, and writes in flight survive it', async () => {
    const p = await openTree({ journal: { compactAfterRecords: 10 } });
    const c = p.tree.connect();
    for (let i = 0; i < 95; i++) {
      c.write(`/auto/${i}`, String(i));
      if (i % 7 === 0) await p.journal.whenDurable();
    }
    await p.journal.whenDurable();
    expect(p.journal.generation).toBeGreaterThan(0);
    const before = p.tree.snapshot();
    await closeTree(p);
    const q = await openTree();
    expect(q.tree.snapshot()).toEqual(before);
  });

  it('a crash between writing the snapshot and replacing the journal loses and doubles nothing', async () => {
    const p = await openTree();
    const c = p.tree.connect();
    c.write('/x', '1');
    c.write('/order/b', '');
    c.write('/order/a', '');
    c.rm('/order/b');
    c.write('/order/b', '');
    await p.journal.whenDurable();
    copyFileSync(files.journal, `${files.journal}.before`);
    await p.journal.compact();
    const expected = p.tree.snapshot();
    await closeTree(p);
    // The old journal is back, as if the process died before its replacement was renamed in.
    copyFileSync(`${files.journal}.before`, files.journal);
    const q = await openTree();
    expect(q.replayedRecords).toBe(0);
    expect(q.tree.snapshot()).toEqual(expected);
    expect(q.tree.connect().directory('/order')).toEqual(['a', 'b']);
  });

  it('refuses a journal newer than the snapshot (snapshot file lost)', async () => {
    const p = await openTree();
    p.tree.connect().write('/x', '1');
    await p.journal.compact();
    await closeTree(p);
    rmSync(files.snapshot);
    await expect(openPersistentTree(files)).rejects.toThrow(/generation 1 but snapshot .* is missing/);
  });

  it('removes temp files left by a crash during an atomic write', async () => {
    const stale = join(dir, '.xenstore.snapshot.123.456.tmp');
    writeFileSync(stale, 'partial');
    await openTree();
    expect(existsSync(stale)).toBe(false);
  });
});

describe('Journal API', () => {
  it('records are opaque JSON; open returns them after the header', async () => {
    const { journal } = await Journal.open(files);
    journal.append({ hello: 1 });
    journal.append(['x']);
    await journal.close();
    const reopened = await Journal.open(files);
    expect(reopened.records).toEqual([{ hello: 1 }, ['x']]);
    expect(() => reopened.journal.append(undefined)).not.toThrow();
    await reopened.journal.close();
    expect(() => reopened.journal.append({})).toThrow(/closed/);
  });
});
