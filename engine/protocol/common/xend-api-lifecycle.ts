// xend's API for a domain's state as a whole: save/restore (xm save/restore), snapshots, clones,
// backups and live migration. Spread into xendMethods (xend-api.ts); handlers in
// engine/xend/lifecycle-service.ts. Schemas only: the browser renderer imports this too.

import { z } from 'zod';
import { defineMethods } from './define.js';

const ref = z.union([z.string().min(1).max(128), z.number().int().nonnegative()]);
/** Absolute paths on the engine's host; the engine checks them again. */
const hostPath = z.string().min(1).max(4096);
export const domainName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/);

export const snapshotSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** ms since the epoch */
  createdAt: z.number(),
  /** The domain's state when taken: 'running'/'paused' (memory included) or 'shutoff' (disks only). */
  state: z.enum(['running', 'paused', 'shutoff']),
  /** The snapshot this one was taken on top of (the tree). */
  parent: z.string().optional(),
  /** The snapshot the domain last reverted to or took: its place in the tree. */
  current: z.boolean(),
  /** Bytes of guest memory saved with it (0 for disk-only). */
  vmStateSize: z.number(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const lifecycleMethods = defineMethods({
  'domain.save': {
    params: z.object({ ref, path: hostPath, keepRunning: z.boolean().default(false) }),
    result: z.object({ path: z.string(), bytes: z.number(), downtimeMs: z.number(), totalMs: z.number() }),
    doc:
      'Save the domain to a file (xm save): header, config, then QEMU\'s migration stream, via a temp file renamed on ' +
      'success. The domain is destroyed afterwards unless keepRunning (xm save -c). Allowed while running or paused; ' +
      'on failure the domain keeps running and no file is left.',
    errors: ['NoSuchDomain', 'InvalidState', 'InvalidPath', 'SaveFailed'],
  },
  'domain.managedSave': {
    params: z.object({ name: domainName }),
    result: z.object({ path: z.string(), bytes: z.number(), downtimeMs: z.number(), totalMs: z.number() }),
    doc:
      "Save a running or paused defined domain to <data>/save/<name>.save and destroy it (libvirt's managedsave, the " +
      "GUI's Save): domain.list then shows it halted with saved: true, and domain.start (xm start) restores it.",
    errors: ['NoSuchDomain', 'InvalidState', 'SaveFailed'],
  },
  'domain.restore': {
    params: z.object({ path: hostPath, paused: z.boolean().default(false) }),
    result: z.object({ name: z.string(), domid: z.number().int() }),
    doc: 'Recreate a saved domain (xm restore) with its name, uuid and MACs; paused leaves it paused (-p). Refused if that name or uuid runs.',
    errors: ['BadSaveFile', 'DomainExists', 'RestoreFailed', 'InvalidPath'],
  },
  'snapshot.create': {
    params: z.object({ domain: domainName, name: z.string().min(1).max(64), description: z.string().max(4096).default('') }),
    result: snapshotSchema,
    doc:
      'Take a snapshot of every writable (qcow2) disk, with the guest\'s memory when the domain runs or is paused ' +
      '(xm snapshot-create). Raw disks are refused with UnsupportedDisk.',
    errors: ['NoSuchDomain', 'UnsupportedDisk', 'SnapshotError'],
  },
  'snapshot.list': {
    params: z.object({ domain: domainName }),
    result: z.array(snapshotSchema),
    doc: "A domain's snapshots in the order taken; `parent` makes the tree (xm snapshot-list). Always allowed.",
    errors: ['NoSuchDomain'],
  },
  'snapshot.revert': {
    params: z.object({ domain: domainName, name: z.string().min(1).max(64) }),
    result: snapshotSchema,
    doc:
      'Go back to a snapshot (xm snapshot-revert): a memory snapshot brings the domain back running (or paused) as it was ' +
      '(a stopped domain is started for it); a disk-only snapshot needs the domain stopped.',
    errors: ['NoSuchDomain', 'NoSuchSnapshot', 'SnapshotError'],
  },
  'snapshot.delete': {
    params: z.object({ domain: domainName, name: z.string().min(1).max(64) }),
    result: z.null(),
    doc: 'Delete a snapshot from the images and the tree; its children move up to its parent (xm snapshot-delete).',
    errors: ['NoSuchDomain', 'NoSuchSnapshot', 'SnapshotError'],
  },
  'domain.clone': {
    params: z.object({ source: domainName, name: domainName, linked: z.boolean().default(false) }),
    result: z.object({ name: z.string(), path: z.string(), uuid: z.string(), disks: z.array(z.string()) }),
    doc:
      'Clone a stopped domain (virt-clone): new name, uuid and MACs, its writable disks copied (or, linked, qcow2 ' +
      'overlays backed by the originals) into the images dir; defined, not started. Refused while the source runs.',
    errors: ['NoSuchDomain', 'DomainExists', 'InvalidState', 'CloneError'],
  },
  'domain.backup': {
    params: z.object({ domain: domainName, dir: hostPath.optional() }),
    result: z.object({ path: z.string(), bytes: z.number(), method: z.enum(['live', 'stopped']) }),
    doc:
      'Back a domain up into <dir or <data>/backups>/<name>-<time>.tar.gz (config, manifest, gzip\'d disks) (xm backup). ' +
      'A running domain keeps running (QEMU backup jobs, one instant for all disks); a stopped one is copied.',
    errors: ['NoSuchDomain', 'BackupError', 'InvalidPath'],
  },
  'domain.backupRestore': {
    params: z.object({ path: hostPath, name: domainName.optional(), replace: z.boolean().default(false) }),
    result: z.object({ name: z.string(), path: z.string() }),
    doc:
      'Define a domain from a backup archive (xm backup-restore), its disks in the images dir; under a new name it gets ' +
      'a new uuid and MACs; replace overwrites a stopped domain of that name.',
    errors: ['BackupError', 'DomainExists', 'InvalidPath'],
  },
  'domain.migrate': {
    params: z.object({
      ref,
      host: z.string().min(1).max(255).regex(/^[A-Za-z0-9.:[\]_-]+$/),
      port: z.number().int().min(1).max(65535).optional(),
      live: z.boolean().default(false),
      /** No shared storage: copy the writable disks live to the target's images dir (NBD + blockdev-mirror). */
      copyStorage: z.boolean().default(false),
      /** MiB/s; default unlimited. */
      bandwidthMiB: z.number().int().positive().max(1_000_000).optional(),
      downtimeMs: z.number().int().positive().max(60_000).optional(),
    }),
    result: z.object({ domid: z.number().int(), downtimeMs: z.number(), totalMs: z.number(), bytes: z.number() }),
    doc:
      "Move a domain to another engine's relocation service (xm migrate), authenticated with xend-relocation-token. " +
      'Removed here only once it runs there; any failure leaves it running here. Allowed while running or paused.',
    errors: ['NoSuchDomain', 'InvalidState', 'MigrationFailed', 'RelocationRefused'],
  },
});

export type LifecycleMethods = typeof lifecycleMethods;
