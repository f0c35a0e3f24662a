// xm's SAN command: an iSCSI target as a storage pool (its LUNs are the volumes vol-list shows).

import { needArgs } from './args.js';
import type { Command } from './commands.js';

export const SAN_COMMANDS: Command[] = [
  {
    name: 'pool-define-iscsi',
    usage: 'pool-define-iscsi <Name> <Portal> <Target-IQN>',
    summary: 'Add an iSCSI target as a storage pool (portal host[:port]); its LUNs become volumes for iscsi:// disk lines.',
    async run(ctx, args) {
      needArgs('pool-define-iscsi', args, 3);
      const p = await (await ctx.client()).call('storage.poolDefineIscsi', { name: args[0]!, portal: args[1]!, iqn: args[2]! });
      ctx.out(`Pool ${p.name} defined at ${p.path} (${p.volumes} LUN${p.volumes === 1 ? '' : 's'})\n`);
      return 0;
    },
  },
];
