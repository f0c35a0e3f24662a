// xend's storage API: pools and volumes (virt-manager's Storage tab, xm pool-list / vol-*), and
// disks of domains (xm block-attach / block-detach / block-list, CD-ROM media). Schemas only:
// imported by the browser renderer too. Handlers: engine/xend/storage-service.ts.

import { z } from 'zod';
import { defineEvents, defineMethods } from './define.js';

const ref = z.union([z.string().min(1).max(128), z.number().int().nonnegative()]);
const name = z.string().min(1).max(128);
const path = z.string().min(1).max(4096);

export const poolSchema = z.object({
  name: z.string(),
  type: z.enum(['dir']),
  path: z.string(),
  capacity: z.number(),
  allocation: z.number(),
  available: z.number(),
  volumes: z.number().int(),
});
export type PoolRow = z.infer<typeof poolSchema>;

export const volumeSchema = z.object({
  pool: z.string(),
  name: z.string(),
  path: z.string(),
  format: z.string(),
  capacity: z.number(),
  allocation: z.number(),
  backingFile: z.string().optional(),
  usedBy: z.array(z.string()),
});
export type VolumeRow = z.infer<typeof volumeSchema>;

export const blockRowSchema = z.object({
  /** Xen's device number (xvdb → 51728). */
  devid: z.number().int(),
  vdev: z.string(),
  backend: z.enum(['phy', 'file', 'tap', 'nbd']),
  target: z.string(),
  format: z.string(),
  devtype: z.enum(['disk', 'cdrom']),
  access: z.enum(['r', 'w', 'w!']),
  /** Xen's device state: 4 Connected for a running domain, 1 for a halted one. */
  state: z.number().int(),
});
export type BlockRow = z.infer<typeof blockRowSchema>;

const volumeFormat = z.enum(['qcow2', 'raw']);
const storageErrors = ['NoSuchPool', 'NoSuchVolume', 'VolumeExists', 'VolumeInUse', 'InvalidName', 'InvalidPath', 'InvalidSize', 'QemuImgFailed'];
const deviceErrors = ['NoSuchDomain', 'InvalidState', 'InvalidPath', 'SpecError', 'ConfigError'];

export const storageMethods = defineMethods({
  'storage.poolList': {
    params: z.void(),
    result: z.array(poolSchema),
    doc: 'Storage pools with their filesystem capacity, allocation and free space (xm pool-list). Always allowed.',
  },
  'storage.poolDefine': {
    params: z.object({ name, path }),
    result: poolSchema,
    doc: 'Add an existing folder as a directory pool. Local clients only (a remote client cannot name host folders).',
    errors: ['PoolExists', 'InvalidName', 'InvalidPath'],
  },
  'storage.poolRemove': {
    params: z.object({ name }),
    result: z.null(),
    doc: 'Forget a pool (its files stay). The default pool cannot be removed.',
    errors: ['NoSuchPool', 'InvalidName'],
  },
  'storage.volList': {
    params: z.object({ pool: name }),
    result: z.array(volumeSchema),
    doc: 'Volumes of a pool: format, capacity, allocation, backing file and the domains using each (xm vol-list).',
    errors: ['NoSuchPool'],
  },
  'storage.volCreate': {
    params: z.object({
      pool: name,
      name,
      /** Bytes; 0 with a backing file takes the backing file's size. */
      size: z.number().int().nonnegative(),
      format: volumeFormat.default('qcow2'),
      preallocate: z.boolean().default(false),
      /** Absolute path of a backing image (qcow2 overlay); remote clients: inside a pool. */
      backingFile: path.optional(),
    }),
    result: volumeSchema,
    doc: 'Create a volume, sparse or preallocated, optionally over a backing file (xm vol-create).',
    errors: storageErrors,
  },
  'storage.volResize': {
    params: z.object({ pool: name, name, size: z.number().int().positive(), force: z.boolean().default(false) }),
    result: volumeSchema,
    doc: 'Grow a volume (live through QEMU when a running domain uses it); shrinking needs force and a volume nobody uses (xm vol-resize).',
    errors: storageErrors,
  },
  'storage.volClone': {
    params: z.object({ pool: name, name, newName: name, targetPool: name.optional(), job: z.string().max(64).optional() }),
    result: volumeSchema,
    doc: 'Copy a volume; progress as storage.progress events with the given job id.',
    errors: storageErrors,
  },
  'storage.volImport': {
    params: z.object({ pool: name, name, source: path, format: volumeFormat.default('qcow2'), job: z.string().max(64).optional() }),
    result: volumeSchema,
    doc: 'Import an image (any format qemu-img reads) as a new volume, converted; progress as storage.progress events. Remote clients: the source must be in a pool.',
    errors: storageErrors,
  },
  'storage.volDelete': {
    params: z.object({ pool: name, name }),
    result: z.null(),
    doc: 'Delete a volume. Refused while any domain (running or defined) uses it (xm vol-delete).',
    errors: storageErrors,
  },
  'domain.blockList': {
    params: z.object({ ref }),
    result: z.array(blockRowSchema),
    doc: "A domain's disks with Xen's device numbers (xm block-list). Running or defined domains.",
    errors: ['NoSuchDomain'],
  },
  'domain.blockAttach': {
    params: z.object({
      ref,
      /** A disk line as in the config: `file:/img/x.img,xvdb,w`, `tap:qcow2:/p,xvdc,w`, `phy:/dev/vg/lv,xvdd,r`. */
      spec: z.string().min(1).max(4096),
    }),
    result: z.object({ live: z.boolean(), vdev: z.string(), path: z.string().optional() }),
    doc: 'Add a disk (xm block-attach): hot-added through QMP to a running domain (virtio xvdX only), and saved to its definition if it has one; a halted defined domain gets it at its next start.',
    errors: deviceErrors,
  },
  'domain.blockDetach': {
    params: z.object({ ref, dev: z.string().min(1).max(32) }),
    result: z.object({ live: z.boolean(), vdev: z.string() }),
    doc: 'Remove a disk by vdev or device number (xm block-detach): the guest releases it (device_del, DEVICE_DELETED), then its backend goes; saved to the definition.',
    errors: deviceErrors,
  },
  'domain.mediaChange': {
    params: z.object({ ref, vdev: z.string().min(1).max(16), target: z.string().max(4096), format: z.enum(['raw', 'qcow2']).default('raw') }),
    result: z.object({ live: z.boolean() }),
    doc: "Insert a medium into a CD-ROM drive, or eject it (target ''). Live on a running domain; saved to the definition.",
    errors: deviceErrors,
  },
});

export const storageEvents = defineEvents({
  'storage.changed': {
    data: z.object({ pool: z.string() }),
    doc: "A pool's volumes or free space changed; clients re-read storage.poolList / storage.volList.",
  },
  'storage.progress': {
    data: z.object({ job: z.string(), pool: z.string(), volume: z.string(), percent: z.number() }),
    doc: 'Progress of a volume copy or import (qemu-img convert), 0..100.',
  },
});
