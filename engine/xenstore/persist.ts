// A registry backed by the journal: replay on open, one journal record per commit after.
// Records and snapshots are checked with a schema on replay, so a file from another version or
// a hand edit is refused with a message rather than half-applied.

import { z } from 'zod';
import { Journal, JournalCorruptError } from './journal.js';
import type { JournalFiles, JournalOptions } from './journal.js';
import { formatPermissions, parsePermissions } from './perms.js';
import { XenstoreTree } from './tree.js';
import type { Mutation, Quota, SnapshotEntry } from './tree.js';

const perms = z.array(z.string().regex(/^[rwbn][0-9]+$/)).min(1);
const mutationSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('set'), path: z.string(), value: z.string(), perms }),
  z.object({ op: z.literal('del'), path: z.string() }),
]);
const recordSchema = z.object({ m: z.array(mutationSchema).min(1) });
/** [path, value, perms] per node, parents first. */
const snapshotSchema = z.object({ nodes: z.array(z.tuple([z.string(), z.string(), perms])) });

type StoredMutation = z.infer<typeof mutationSchema>;

export function encodeCommit(mutations: readonly Mutation[]): z.infer<typeof recordSchema> {
  return {
    m: mutations.map((m): StoredMutation => (m.op === 'set' ? { op: 'set', path: m.path, value: m.value, perms: formatPermissions(m.perms) } : m)),
  };
}

export function decodeCommit(record: unknown): Mutation[] {
  const parsed = recordSchema.safeParse(record);
  if (!parsed.success) throw new JournalCorruptError(`journal record is not a xenstore commit: ${parsed.error.message}`);
  return parsed.data.m.map((m) => (m.op === 'set' ? { ...m, perms: parsePermissions(m.perms) } : m));
}

export function encodeSnapshot(entries: readonly SnapshotEntry[]): z.infer<typeof snapshotSchema> {
  return { nodes: entries.map((e) => [e.path, e.value, formatPermissions(e.perms)]) };
}

export function decodeSnapshot(data: unknown): SnapshotEntry[] {
  const parsed = snapshotSchema.safeParse(data);
  if (!parsed.success) throw new JournalCorruptError(`snapshot is not a xenstore tree: ${parsed.error.message}`);
  return parsed.data.nodes.map(([path, value, p]) => ({ path, value, perms: parsePermissions(p) }));
}

export interface PersistentTreeOptions {
  quota?: Partial<Quota>;
  journal?: JournalOptions;
}

export interface PersistentTree {
  tree: XenstoreTree;
  journal: Journal;
  /** Journal records applied on top of the snapshot. */
  replayedRecords: number;
  droppedBytes: number;
}

export async function openPersistentTree(files: JournalFiles, opts: PersistentTreeOptions = {}): Promise<PersistentTree> {
  const { journal, snapshot, records, droppedBytes } = await Journal.open(files, opts.journal);
  try {
    const tree = new XenstoreTree({ quota: opts.quota, onCommit: (mutations) => journal.append(encodeCommit(mutations)) });
    try {
      if (snapshot !== undefined) tree.load(decodeSnapshot(snapshot));
      for (const record of records) tree.replay(decodeCommit(record));
    } catch (err) {
      if (err instanceof JournalCorruptError) throw err;
      throw new JournalCorruptError(`replaying ${files.journal}: ${(err as Error).message}`);
    }
    journal.setSnapshotSource(() => encodeSnapshot(tree.snapshot()));
    return { tree, journal, replayedRecords: records.length, droppedBytes };
  } catch (err) {
    await journal.close();
    throw err;
  }
}
