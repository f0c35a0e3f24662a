// xm's storage commands: pools and volumes (ours; names in xm's style), and Xen's block-attach /
// block-detach / block-list. Registered in commands.ts (which must be the module imported first:
// these entries use its argument helpers).

import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseSize } from '../../storage/index.js';
import { needArgs, parseOpts, ref, UsageError } from './args.js';
import type { Command } from './commands.js';
import { formatBlockList, formatBytes, formatPoolList, formatVolList } from './storage-format.js';

function volumeFormat(v: string | true | undefined): 'qcow2' | 'raw' {
  if (v === undefined) return 'qcow2';
  if (v === 'qcow2' || v === 'raw') return v;
  throw new UsageError(`--format must be qcow2 or raw`);
}

export const STORAGE_COMMANDS: Command[] = [
  {
    name: 'pool-list',
    usage: 'pool-list',
    summary: 'List storage pools: capacity, allocation and free space.',
    async run(ctx, args) {
      needArgs('pool-list', args, 0);
      ctx.out(formatPoolList(await (await ctx.client()).call('storage.poolList')));
      return 0;
    },
  },
  {
    name: 'pool-define',
    usage: 'pool-define <Name> <Folder>',
    summary: 'Add an existing folder as a directory storage pool.',
    async run(ctx, args) {
      needArgs('pool-define', args, 2);
      const p = await (await ctx.client()).call('storage.poolDefine', { name: args[0]!, path: resolve(ctx.cwd, args[1]!) });
      ctx.out(`Pool ${p.name} defined at ${p.path}\n`);
      return 0;
    },
  },
  {
    name: 'pool-undefine',
    usage: 'pool-undefine <Name>',
    summary: 'Forget a storage pool (its files stay).',
    async run(ctx, args) {
      needArgs('pool-undefine', args, 1);
      await (await ctx.client()).call('storage.poolRemove', { name: args[0]! });
      return 0;
    },
  },
  {
    name: 'vol-list',
    usage: 'vol-list [Pool]',
    summary: 'List the volumes of a pool (default: default): format, sizes, domains using them.',
    async run(ctx, args) {
      needArgs('vol-list', args, 0, 1);
      ctx.out(formatVolList(await (await ctx.client()).call('storage.volList', { pool: args[0] ?? 'default' })));
      return 0;
    },
  },
  {
    name: 'vol-create',
    usage: 'vol-create [options] <Pool> <Name> <Size>',
    summary:
      'Create a volume (Size: 10G, 512M, bytes).\n  --format=qcow2|raw     Image format (default qcow2)\n  --prealloc             Reserve all blocks now instead of a sparse image\n  --backing=<file>       qcow2 overlay over this image (Size 0: its size)',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '--prealloc': 'prealloc' }, { '--format': 'format', '--backing': 'backing' });
      needArgs('vol-create', rest, 3);
      const size = rest[2] === '0' ? 0 : parseSize(rest[2]!);
      const v = await (await ctx.client()).call('storage.volCreate', {
        pool: rest[0]!,
        name: rest[1]!,
        size,
        format: volumeFormat(opts.format),
        preallocate: opts.prealloc === true,
        backingFile: typeof opts.backing === 'string' ? resolve(ctx.cwd, opts.backing) : undefined,
      });
      ctx.out(`Volume ${v.name} created: ${v.path} (${v.format}, ${formatBytes(v.capacity)})\n`);
      return 0;
    },
  },
  {
    name: 'vol-delete',
    usage: 'vol-delete <Pool> <Name>',
    summary: 'Delete a volume; refused while a domain uses it.',
    async run(ctx, args) {
      needArgs('vol-delete', args, 2);
      await (await ctx.client()).call('storage.volDelete', { pool: args[0]!, name: args[1]! });
      ctx.out(`Volume ${args[1]} deleted\n`);
      return 0;
    },
  },
  {
    name: 'vol-resize',
    usage: 'vol-resize [--force] <Pool> <Name> <[+]Size>',
    summary: 'Grow a volume (live when a running domain uses it).\n  --force                Allow shrinking (data past the new end is lost)',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '--force': 'force', '-f': 'force' });
      needArgs('vol-resize', rest, 3);
      const client = await ctx.client();
      const sizeArg = rest[2]!;
      let size = parseSize(sizeArg.replace(/^\+/, ''));
      if (sizeArg.startsWith('+')) {
        const vols = await client.call('storage.volList', { pool: rest[0]! });
        const current = vols.find((v) => v.name === rest[1]);
        if (!current) throw new Error(`pool ${rest[0]} has no volume ${rest[1]}`);
        size += current.capacity;
      }
      const v = await client.call('storage.volResize', { pool: rest[0]!, name: rest[1]!, size, force: opts.force === true });
      ctx.out(`Volume ${v.name} resized to ${formatBytes(v.capacity)}\n`);
      return 0;
    },
  },
  {
    name: 'vol-clone',
    usage: 'vol-clone [--pool=<Target>] <Pool> <Name> <NewName>',
    summary: 'Copy a volume (within its pool, or into --pool).',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, {}, { '--pool': 'pool' });
      needArgs('vol-clone', rest, 3);
      const v = await withProgress(ctx, (client, job) =>
        client.call('storage.volClone', { pool: rest[0]!, name: rest[1]!, newName: rest[2]!, targetPool: typeof opts.pool === 'string' ? opts.pool : undefined, job }),
      );
      ctx.out(`Volume ${v.name} created: ${v.path}\n`);
      return 0;
    },
  },
  {
    name: 'vol-import',
    usage: 'vol-import [--format=qcow2|raw] <Pool> <Name> <ImageFile>',
    summary: 'Import an image file as a new volume, converted by qemu-img (progress shown).',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, {}, { '--format': 'format' });
      needArgs('vol-import', rest, 3);
      const v = await withProgress(ctx, (client, job) =>
        client.call('storage.volImport', { pool: rest[0]!, name: rest[1]!, source: resolve(ctx.cwd, rest[2]!), format: volumeFormat(opts.format), job }),
      );
      ctx.out(`Volume ${v.name} created: ${v.path} (${v.format}, ${formatBytes(v.capacity)})\n`);
      return 0;
    },
  },
  {
    name: 'block-attach',
    usage: 'block-attach <Domain> <BackDev> <FrontDev> <Mode>',
    summary: 'Create a new virtual block device (e.g. file:/img/x.img xvdb w).',
    async run(ctx, args) {
      needArgs('block-attach', args, 4);
      const [dom, back, front, mode] = args as [string, string, string, string];
      if (!/^(r|w|w!|rw|ro)$/.test(mode)) throw new UsageError(`mode must be r, w or w!, got '${mode}'`);
      // Relative image paths are the user's: resolve them here, where the user is.
      const m = /^(phy:|file:|tap:[a-z0-9]+:|tap:)?(.*)$/.exec(back)!;
      const [, prefix = '', target = ''] = m;
      const backdev = prefix !== 'phy:' && target !== '' && !target.startsWith('/') && !back.includes('=') ? `${prefix}${resolve(ctx.cwd, target)}` : back;
      await (await ctx.client()).call('domain.blockAttach', { ref: ref(dom), spec: `${backdev},${front},${mode}` });
      return 0;
    },
  },
  {
    name: 'block-detach',
    usage: 'block-detach <Domain> <DevId> [-f|--force]',
    summary: 'Destroy a domain\'s virtual block device (DevId: vdev or device number).',
    async run(ctx, args) {
      const { rest } = parseOpts(args, { '-f': 'force', '--force': 'force' });
      needArgs('block-detach', rest, 2);
      await (await ctx.client()).call('domain.blockDetach', { ref: ref(rest[0]!), dev: rest[1]! });
      return 0;
    },
  },
  {
    name: 'block-list',
    usage: 'block-list <Domain> [-l|--long]',
    summary: 'List virtual block devices for a domain.',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-l': 'long', '--long': 'long' });
      needArgs('block-list', rest, 1);
      const client = await ctx.client();
      const rows = await client.call('domain.blockList', { ref: ref(rest[0]!) });
      const domid = (await client.call('domain.list')).find((d) => d.name === rest[0] || String(d.domid) === rest[0])?.domid;
      if (opts.long) {
        for (const r of rows) {
          ctx.out(`(${r.devid}\n    ((backend-id 0)\n        (virtual-device ${r.devid})\n        (device-type ${r.devtype})\n        (dev ${r.vdev})\n        (params ${r.target || "''"})\n        (mode ${r.access})\n        (format ${r.format})\n        (state ${r.state})\n    )\n)\n`);
        }
        return 0;
      }
      ctx.out(formatBlockList(domid, rows));
      return 0;
    },
  },
  {
    name: 'block-configure',
    usage: 'block-configure <Domain> <BackDev> <FrontDev> <Mode>',
    summary: "Change a CD-ROM's medium (e.g. file:/iso/x.iso hdc:cdrom r); BackDev '' ejects it.",
    async run(ctx, args) {
      needArgs('block-configure', args, 4);
      const [dom, back, front] = args as [string, string, string];
      const vdev = front.replace(/:cdrom$/, '');
      const target = back.replace(/^(file|phy|tap:aio|tap:qcow2|tap):/, '');
      const format = /^tap:qcow2:/.test(back) ? 'qcow2' : 'raw';
      await (await ctx.client()).call('domain.mediaChange', { ref: ref(dom), vdev, target: target === '' ? '' : resolve(ctx.cwd, target), format });
      return 0;
    },
  },
];

/** Run a copy/import, drawing qemu-img's progress on stderr while it runs. */
async function withProgress<T>(ctx: Parameters<Command['run']>[0], call: (client: Awaited<ReturnType<Parameters<Command['run']>[0]['client']>>, job: string) => Promise<T>): Promise<T> {
  const client = await ctx.client();
  const job = randomUUID();
  await client.subscribe(['storage.progress']);
  const sub = client.on('storage.progress', (p) => {
    if (p.job === job) ctx.err(`\r    (${p.percent.toFixed(2)}/100%)${p.percent >= 100 ? '\n' : ''}`);
  });
  try {
    return await call(client, job);
  } finally {
    sub.dispose();
  }
}
