// xm's network commands: Xen's network-attach / network-detach / network-list, and net-list /
// net-define / net-undefine for networks (ours; names in xm's style). Registered in commands.ts
// (which must be the module imported first: these entries use its argument helpers).

import { VIF_KEYS } from '../../config/index.js';
import { needArgs, parseOpts, ref, UsageError } from './args.js';
import type { Command } from './commands.js';
import { formatNetList, formatNicList } from './network-format.js';

export const NETWORK_COMMANDS: Command[] = [
  {
    name: 'network-attach',
    usage: 'network-attach <Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [vifname=<name>] [model=<model>] [hostfwd=<tcp:2222:22>]',
    summary: 'Create a new virtual network device (NAT unless bridge= is given).',
    async run(ctx, args) {
      if (args.length < 1) throw new UsageError("'xm network-attach' requires at least 1 argument.");
      const [dom, ...pairs] = args as [string, ...string[]];
      for (const p of pairs) {
        const key = p.slice(0, p.indexOf('='));
        if (!p.includes('=') || !(VIF_KEYS as readonly string[]).includes(key)) throw new UsageError(`'${p}' is not key=value with a key of ${VIF_KEYS.join(', ')}`);
      }
      await (await ctx.client()).call('domain.nicAttach', { ref: ref(dom), spec: pairs.join(',') });
      return 0;
    },
  },
  {
    name: 'network-detach',
    usage: 'network-detach <Domain> <DevId|mac> [-f|--force]',
    summary: 'Destroy a domain\'s virtual network device.',
    async run(ctx, args) {
      const { rest } = parseOpts(args, { '-f': 'force', '--force': 'force' });
      needArgs('network-detach', rest, 2);
      await (await ctx.client()).call('domain.nicDetach', { ref: ref(rest[0]!), dev: rest[1]! });
      return 0;
    },
  },
  {
    name: 'network-list',
    usage: 'network-list <Domain> [-l|--long]',
    summary: 'List virtual network interfaces for a domain.',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-l': 'long', '--long': 'long' });
      needArgs('network-list', rest, 1);
      const client = await ctx.client();
      const rows = await client.call('domain.nicList', { ref: ref(rest[0]!) });
      const domid = (await client.call('domain.list')).find((d) => d.name === rest[0] || String(d.domid) === rest[0])?.domid;
      if (opts.long) {
        for (const r of rows) {
          const extra = [r.tap ? `        (vifname ${r.tap})\n` : '', r.hostfwd ? `        (hostfwd '${r.hostfwd}')\n` : ''].join('');
          ctx.out(`(${r.idx}\n    ((backend-id 0)\n        (mac ${r.mac})\n        (handle ${r.idx})\n        (model ${r.model})\n        (bridge ${r.network})\n${extra}        (state ${r.state})\n    )\n)\n`);
        }
        return 0;
      }
      ctx.out(formatNicList(domid, rows));
      return 0;
    },
  },
  {
    name: 'net-list',
    usage: 'net-list',
    summary: 'List networks: the NAT one, bridged and isolated ones.',
    async run(ctx, args) {
      needArgs('net-list', args, 0);
      ctx.out(formatNetList(await (await ctx.client()).call('network.list')));
      return 0;
    },
  },
  {
    name: 'net-define',
    usage: 'net-define [--isolated] [--bridge=<bridge>] <Name>',
    summary: 'Define a bridged network (a host bridge, created if missing and allowed) or, with --isolated, a bridge with no uplink.',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '--isolated': 'isolated' }, { '--bridge': 'bridge' });
      needArgs('net-define', rest, 1);
      const n = await (await ctx.client()).call('network.define', {
        name: rest[0]!,
        type: opts.isolated ? 'isolated' : 'bridge',
        bridge: typeof opts.bridge === 'string' ? opts.bridge : undefined,
      });
      ctx.out(`Network ${n.name} defined on bridge ${n.bridge} (${n.active ? 'active' : 'inactive'})\n`);
      return 0;
    },
  },
  {
    name: 'net-undefine',
    usage: 'net-undefine <Name>',
    summary: "Remove a network (an isolated network's bridge is deleted).",
    async run(ctx, args) {
      needArgs('net-undefine', args, 1);
      await (await ctx.client()).call('network.undefine', { name: args[0]! });
      return 0;
    },
  },
];
