// xm sched-credit: Xen's credit scheduler parameters, with xm's options, output and messages.

import type { SchedCreditRow } from '../../protocol/common/xend-api-sched.js';
import { parseOpts, ref, UsageError } from './args.js';
import type { Command } from './commands.js';

/** xm's header, '%-33s %4s %6s %4s' % ('Name','ID','Weight','Cap'). */
export function formatSchedCreditHeader(): string {
  return `${'Name'.padEnd(33)} ${'ID'.padStart(4)} ${'Weight'.padStart(6)} ${'Cap'.padStart(4)}`;
}

/** xm's row, "%(name)-32s %(domid)5s %(weight)6d %(cap)4d"; a halted defined domain has no ID. */
export function formatSchedCreditRow(row: SchedCreditRow): string {
  return `${row.name.padEnd(32)} ${(row.domid === undefined ? '' : String(row.domid)).padStart(5)} ${String(row.weight).padStart(6)} ${String(row.cap).padStart(4)}`;
}

function whole(value: string | true | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === true || !/^-?\d+$/.test(value)) throw new UsageError(`${what} must be a whole number, got '${value === true ? '' : value}'`);
  return Number(value);
}

export const SCHED_COMMANDS: Command[] = [
  {
    name: 'sched-credit',
    usage: 'sched-credit [-d <Domain> [-w <Weight>] [-c <Cap>]]',
    summary: 'Get/set credit scheduler parameters: weight (1-65535, default 256) and cap (% of one CPU, 0 = none).',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, {}, { '-d': 'domain', '--domain': 'domain', '-w': 'weight', '--weight': 'weight', '-c': 'cap', '--cap': 'cap' });
      if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
      const weight = whole(opts.weight, 'weight');
      const cap = whole(opts.cap, 'cap');
      const domain = typeof opts.domain === 'string' ? opts.domain : undefined;
      const client = await ctx.client();
      if (weight === undefined && cap === undefined) {
        const rows = await client.call('domain.schedCredit', domain === undefined ? {} : { ref: ref(domain) });
        ctx.out([formatSchedCreditHeader(), ...rows.map(formatSchedCreditRow)].join('\n') + '\n');
        return 0;
      }
      // Xen's words when -w/-c come without -d (a place holder for system-wide parameters there).
      if (domain === undefined) throw new UsageError('No domain given.');
      await client.call('domain.schedCreditSet', { ref: ref(domain), weight, cap });
      return 0;
    },
  },
];
