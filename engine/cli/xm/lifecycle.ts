// xm commands for a domain's state as a whole: save, restore, snapshot-*, clone, backup,
// backup-restore, migrate. Xen's names and options; paths are resolved where the user is.

import { resolve } from 'node:path';
import type { Snapshot } from '../../protocol/common/xend-api-lifecycle.js';
import { needArgs, parseOpts, ref, UsageError } from './args.js';
import type { Command } from './commands.js';

export const LIFECYCLE_COMMANDS: Command[] = [
  {
    name: 'save',
    usage: 'save [-c|--checkpoint] <Domain> <CheckpointFile>',
    summary: 'Save a domain state to restore later.\n  -c, --checkpoint      Leave domain running after creating snapshot',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-c': 'checkpoint', '--checkpoint': 'checkpoint' });
      needArgs('save', rest, 2);
      await (await ctx.client()).call('domain.save', { ref: ref(rest[0]!), path: resolve(ctx.cwd, rest[1]!), keepRunning: opts.checkpoint === true });
      return 0;
    },
  },
  {
    name: 'restore',
    usage: 'restore [-p|--paused] <CheckpointFile>',
    summary: 'Restore a domain from a saved state.\n  -p, --paused          Do not unpause domain after restoring it',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-p': 'paused', '--paused': 'paused' });
      needArgs('restore', rest, 1);
      await (await ctx.client()).call('domain.restore', { path: resolve(ctx.cwd, rest[0]!), paused: opts.paused === true });
      return 0;
    },
  },
  {
    name: 'snapshot-create',
    usage: 'snapshot-create [-d|--description=TEXT] <Domain> <SnapshotName>',
    summary:
      'Snapshot the disks (qcow2) of a domain, with its memory if it runs.\n  -d, --description=TEXT  Say what the snapshot is for',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, {}, { '-d': 'description', '--description': 'description' });
      needArgs('snapshot-create', rest, 2);
      const description = typeof opts.description === 'string' ? opts.description : '';
      const s = await (await ctx.client()).call('snapshot.create', { domain: rest[0]!, name: rest[1]!, description });
      ctx.out(`Domain snapshot ${s.name} created (${s.state === 'shutoff' ? 'disks only' : 'disks and memory'})\n`);
      return 0;
    },
  },
  {
    name: 'snapshot-list',
    usage: 'snapshot-list <Domain>',
    summary: "List a domain's snapshots as a tree, with time and state; '*' marks the current one.",
    async run(ctx, args) {
      needArgs('snapshot-list', args, 1);
      ctx.out(formatSnapshotTree(await (await ctx.client()).call('snapshot.list', { domain: args[0]! })));
      return 0;
    },
  },
  {
    name: 'snapshot-revert',
    usage: 'snapshot-revert <Domain> <SnapshotName>',
    summary: 'Revert a domain to a snapshot (its disks, and its memory when the snapshot has it).',
    async run(ctx, args) {
      needArgs('snapshot-revert', args, 2);
      await (await ctx.client()).call('snapshot.revert', { domain: args[0]!, name: args[1]! });
      ctx.out(`Domain ${args[0]} reverted to snapshot ${args[1]}\n`);
      return 0;
    },
  },
  {
    name: 'snapshot-delete',
    usage: 'snapshot-delete <Domain> <SnapshotName>',
    summary: 'Delete a snapshot; its children move up to its parent.',
    async run(ctx, args) {
      needArgs('snapshot-delete', args, 2);
      await (await ctx.client()).call('snapshot.delete', { domain: args[0]!, name: args[1]! });
      ctx.out(`Domain snapshot ${args[1]} deleted\n`);
      return 0;
    },
  },
  {
    name: 'clone',
    usage: 'clone [-l|--linked] <Domain> <NewName>',
    summary:
      'Clone a stopped domain: new name, uuid and MACs, disks copied.\n  -l, --linked          qcow2 overlays backed by the original disks instead of copies',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-l': 'linked', '--linked': 'linked' });
      needArgs('clone', rest, 2);
      const r = await (await ctx.client()).call('domain.clone', { source: rest[0]!, name: rest[1]!, linked: opts.linked === true });
      ctx.out(`Domain ${r.name} cloned from ${rest[0]} (uuid ${r.uuid}); config ${r.path}\n`);
      return 0;
    },
  },
  {
    name: 'backup',
    usage: 'backup <Domain> [Directory]',
    summary: 'Back a domain up (config + compressed disks) into an archive; a running domain keeps running.',
    async run(ctx, args) {
      needArgs('backup', args, 1, 2);
      const dir = args[1] === undefined ? undefined : resolve(ctx.cwd, args[1]);
      const r = await (await ctx.client()).call('domain.backup', { domain: args[0]!, dir });
      ctx.out(`Domain ${args[0]} backed up (${r.method === 'live' ? 'live' : 'stopped'}) to ${r.path} (${r.bytes} bytes)\n`);
      return 0;
    },
  },
  {
    name: 'backup-restore',
    usage: 'backup-restore [-n|--name=NAME] [-f|--replace] <Archive>',
    summary:
      'Define a domain from a backup archive.\n  -n, --name=NAME       Restore as a new domain (new uuid and MACs)\n  -f, --replace         Replace the stopped domain of that name',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-f': 'replace', '--replace': 'replace' }, { '-n': 'name', '--name': 'name' });
      needArgs('backup-restore', rest, 1);
      const name = typeof opts.name === 'string' ? opts.name : undefined;
      const r = await (await ctx.client()).call('domain.backupRestore', { path: resolve(ctx.cwd, rest[0]!), name, replace: opts.replace === true });
      ctx.out(`Domain ${r.name} restored from ${rest[0]}; config ${r.path}\n`);
      return 0;
    },
  },
  {
    name: 'migrate',
    usage: 'migrate [-l|--live] [-c|--copy-storage] [-p|--port=PORT] [-r|--resource=MiB/s] [--downtime=MS] <Domain> <Host>[:<Port>]',
    summary:
      'Migrate a domain to another machine.\n  -l, --live            Use live migration\n  -c, --copy-storage    Copy the disks too (no shared storage)\n  -p, --port=PORT       Relocation port (default 8002)\n' +
      '  -r, --resource=MiB/s  Maximum bandwidth\n      --downtime=MS     Longest pause allowed at the end of a live migration',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(
        args,
        { '-l': 'live', '--live': 'live', '-c': 'copyStorage', '--copy-storage': 'copyStorage' },
        { '-p': 'port', '--port': 'port', '-r': 'resource', '--resource': 'resource', '--downtime': 'downtime' },
      );
      needArgs('migrate', rest, 2);
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(rest[1]!);
      if (!m) throw new UsageError(`'${rest[1]}' is not a host or host:port`);
      const num = (v: string | true | undefined, what: string) => {
        if (v === undefined) return undefined;
        if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new UsageError(`${what} must be a whole number`);
        return Number(v);
      };
      const port = num(opts.port, 'port') ?? (m[2] ? Number(m[2]) : undefined);
      const r = await (await ctx.client()).call('domain.migrate', {
        ref: ref(rest[0]!),
        host: m[1]!.replace(/^\[|\]$/g, ''),
        port,
        live: opts.live === true,
        copyStorage: opts.copyStorage === true,
        bandwidthMiB: num(opts.resource, 'resource'),
        downtimeMs: num(opts.downtime, 'downtime'),
      });
      ctx.out(`Domain ${rest[0]} migrated to ${rest[1]} (id ${r.domid} there): downtime ${r.downtimeMs} ms, total ${(r.totalMs / 1000).toFixed(1)} s\n`);
      return 0;
    },
  },
];

/** Name (indented under its parent), creation time, state, description: virsh snapshot-list --tree with columns. */
export function formatSnapshotTree(list: readonly Snapshot[]): string {
  const names = new Set(list.map((s) => s.name));
  // Roots: no parent, or a parent that is no longer listed.
  const snapshots = list.map((s) => (s.parent !== undefined && !names.has(s.parent) ? { ...s, parent: undefined } : s));
  const rows: string[][] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of snapshots.filter((x) => x.parent === parent)) {
      const time = new Date(s.createdAt).toISOString().replace('T', ' ').slice(0, 19);
      rows.push([`${'  '.repeat(depth)}${depth ? '`- ' : ''}${s.name}${s.current ? ' *' : ''}`, time, s.state, s.description]);
      walk(s.name, depth + 1);
    }
  };
  walk(undefined, 0);
  const width = Math.max(4, ...rows.map((r) => r[0]!.length));
  const head = `${'Name'.padEnd(width)}  ${'Creation Time (UTC)'.padEnd(19)}  ${'State'.padEnd(8)}  Description\n`;
  return head + rows.map((r) => `${r[0]!.padEnd(width)}  ${r[1]}  ${r[2]!.padEnd(8)}  ${r[3]}`.trimEnd() + '\n').join('');
}
