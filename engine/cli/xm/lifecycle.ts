// xm commands for a domain's state as a whole: save, restore, snapshot-*, clone, backup,
// backup-restore, migrate. Xen's names and options; paths are resolved where the user is.

import { resolve } from 'node:path';
import { needArgs, parseOpts, ref, type Command } from './commands.js';

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
];
