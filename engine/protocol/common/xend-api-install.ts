// Creating domains (virt-install, the New VM wizard) and the file browser the wizard uses in web
// mode. Spread into xendMethods by xend-api.ts. Browser-safe: schemas only.

import { z } from 'zod';
import { defineMethods } from './define.js';

const path = z.string().min(1).max(4096);
const diskBus = z.enum(['virtio', 'sata', 'ide']);
const nicModel = z.string().regex(/^[a-z0-9_]{1,16}$/);
const mac = z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/);

export const installSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cdrom'), path }),
  z.object({ kind: z.literal('location'), url: z.string().min(1).max(4096), extraArgs: z.string().max(4096).optional() }),
  z.object({ kind: z.literal('import') }),
  z.object({ kind: z.literal('kernel'), kernel: path, initrd: path.optional(), args: z.string().max(4096).optional() }),
  z.object({ kind: z.literal('pxe') }),
]);

export const diskRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('new'), path: path.optional(), sizeGiB: z.number().positive().max(65536).optional(), format: z.enum(['qcow2', 'raw']).optional(), bus: diskBus.optional() }),
  z.object({ kind: z.literal('existing'), path, format: z.enum(['raw', 'qcow2']).optional(), bus: diskBus.optional(), readonly: z.boolean().optional() }),
  z.object({ kind: z.literal('cdrom'), path: path.optional() }),
]);

const networkRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('nat'), model: nicModel.optional(), mac: mac.optional() }),
  z.object({ kind: z.literal('bridge'), bridge: z.string().min(1).max(15), model: nicModel.optional(), mac: mac.optional() }),
  z.object({ kind: z.literal('none') }),
]);

export const installDescriptionSchema = z.object({
  name: z.string().min(1).max(64),
  memory: z.number().int().positive().optional(),
  maxMemory: z.number().int().positive().optional(),
  vcpus: z.number().int().positive().optional(),
  maxVcpus: z.number().int().positive().optional(),
  osVariant: z.string().max(64).optional(),
  source: installSourceSchema,
  disks: z.array(diskRequestSchema).max(16),
  network: networkRequestSchema,
  moreNetworks: z.array(networkRequestSchema).max(7).optional(),
  graphics: z.enum(['vnc', 'none']),
  vnc: z.object({ password: z.string().max(64).optional(), keymap: z.string().max(32).optional(), listen: z.string().max(64).optional() }).optional(),
  liveCd: z.boolean().optional(),
  start: z.boolean().optional(),
  description: z.string().max(4096).optional(),
});
export type InstallDescriptionInput = z.input<typeof installDescriptionSchema>;

export const osEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  family: z.string(),
  memory: z.number(),
  disk: z.number(),
  vcpus: z.number(),
  diskBus: diskBus,
  nic: z.string(),
});
export type OsEntryRow = z.infer<typeof osEntrySchema>;

export const fileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['dir', 'file']),
  size: z.number(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const installMethods = defineMethods({
  'install.create': {
    params: z.object({ description: installDescriptionSchema, dryRun: z.boolean().default(false) }),
    result: z.object({
      name: z.string(),
      domid: z.number().int().optional(),
      os: z.object({ id: z.string(), name: z.string() }),
      osFrom: z.string(),
      /** The definition (what runs after the install), as an xm file. */
      config: z.string(),
      /** The installer run's config, for two-phase installs (--cdrom, --location, --pxe). */
      installConfig: z.string().optional(),
      path: z.string(),
      newDisks: z.array(z.object({ path: z.string(), format: z.string(), sizeBytes: z.number() })),
      phase: z.enum(['install', 'running', 'defined', 'dry-run']),
      warnings: z.array(z.string()),
    }),
    doc:
      'Create a domain from an install description (virt-install, the New VM wizard): new disks in <data>/images, ' +
      'the definition in <config>/domains/<name>.cfg, then start it (the installer first for two-phase installs). ' +
      'Refused before anything is written if the name exists, the media is unreadable or space is short; a failure later removes what was made.',
    errors: ['InvalidInstall', 'DomainExists', 'InsufficientSpace', 'MediaUnreadable', 'InstallTreeError', 'ImageToolError', 'ConfigError', 'QemuStartError', 'PreflightError'],
  },
  'install.osList': {
    params: z.void(),
    result: z.array(osEntrySchema),
    doc: 'The OS catalogue (resources/os-catalogue.json): ids, names and recommended resources. Always allowed.',
  },
  'install.detect': {
    params: z.union([z.object({ cdrom: path }), z.object({ location: z.string().min(1).max(4096) })]),
    result: z.object({ os: osEntrySchema.optional(), label: z.string().optional(), detail: z.string() }),
    doc: "Which OS install media is: an ISO's volume label, a tree's .treeinfo/.disk/info/URL. Refused if unreadable.",
    errors: ['MediaUnreadable', 'InstallTreeError', 'InvalidInstall', 'InvalidPath'],
  },
  'install.poolInfo': {
    params: z.void(),
    result: z.object({ path: z.string(), freeBytes: z.number(), hostMemoryMiB: z.number(), hostCpus: z.number() }),
    doc: 'The default directory pool (<data>/images) with its free space, and the host limits for memory and vCPUs.',
  },
  'files.list': {
    params: z.object({ path: path.optional() }),
    result: z.object({
      path: z.string(),
      parent: z.string().optional(),
      /** The folders a client may browse: the user's home, the data dir, and (browse-folders ...) from xend.conf. */
      roots: z.array(z.string()),
      entries: z.array(fileEntrySchema),
    }),
    doc: "A folder's entries for the web-mode file picker, restricted to the allowed roots (symlinks resolved). Without path: the first root.",
    errors: ['InvalidPath'],
  },
});
