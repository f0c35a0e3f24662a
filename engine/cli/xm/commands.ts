// The xm subcommands: Xen's names, options, output and messages, talking to xend over its socket.
// Each command is one entry of COMMANDS, so `xm help` and the dispatcher read the same table.

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Dom0Paths } from '../../common/paths.js';
import { connectUnix } from '../../protocol/node/unix-client.js';
import { ConnectError } from '../../protocol/common/errors.js';
import { xendEvents, xendMethods, xendStreams, type DomainRow } from '../../protocol/common/xend-api.js';
import type { ProtocolClient } from '../../protocol/common/client.js';
import type { Duplex } from 'node:stream';
import { xendSocketPath } from '../../xend/socket-path.js';
import { formatInfo, formatList, formatSxp, formatUptimeHeader, formatUptimeRow, formatUptimeShort, formatVcpuHeader, formatVcpuRow, type SxpValue } from './format.js';
import { attachConsole } from './console.js';
import { STORAGE_COMMANDS } from './storage.js';
import { NETWORK_COMMANDS } from './network.js';
import { TOP_COMMANDS } from './top.js';
import { LIFECYCLE_COMMANDS } from './lifecycle.js';
import { SCHED_COMMANDS } from './sched.js';
import { needArgs, parseOpts, ref, UsageError } from './args.js';

export { UsageError } from './args.js';

export type XendClient = ProtocolClient<typeof xendMethods, typeof xendEvents, typeof xendStreams, Duplex>;

export interface XmContext {
  paths: Dom0Paths;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Connects lazily: `xm help` must work without xend. */
  client(): Promise<XendClient>;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  run(ctx: XmContext, args: string[]): Promise<number>;
}

export async function connectXend(paths: Dom0Paths): Promise<XendClient> {
  const path = xendSocketPath(paths);
  try {
    return await connectUnix(path, xendMethods, { events: xendEvents, streams: xendStreams, callTimeoutMs: 15 * 60_000 });
  } catch (err) {
    // A socket that is there but not to be trusted (another user's) is not "xend not running".
    if (err instanceof ConnectError && err.kind === 'denied') throw new Error(`Unable to connect to xend: ${err.message}`);
    throw new Error(`Unable to connect to xend: no xend is serving ${path}. Is xend running? Start it with 'xend start'.`);
  }
}

function int(arg: string, what: string): number {
  if (!/^-?\d+$/.test(arg)) throw new UsageError(`${what} must be a whole number, got '${arg}'`);
  return Number(arg);
}

/** xm create's config lookup: the path as given, then the current dir, then the config dirs. */
export function findConfigFile(name: string, ctx: Pick<XmContext, 'cwd' | 'paths'>): string {
  if (name === '/dev/null') return name;
  const candidates = isAbsolute(name) ? [name] : [resolve(ctx.cwd, name), join(ctx.paths.configDir, name), join(ctx.paths.domainConfigDir, name)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`Cannot open config file "${name}"`);
}

function readConfig(name: string, ctx: XmContext): { text: string; file: string } {
  const file = findConfigFile(name, ctx);
  return { text: file === '/dev/null' ? '' : readFileSync(file, 'utf8'), file };
}

function rowSxp(row: DomainRow): SxpValue {
  const sxp: SxpValue[] = ['domain'];
  if (row.domid !== undefined) sxp.push(['domid', row.domid]);
  sxp.push(['name', row.name]);
  if (row.uuid) sxp.push(['uuid', row.uuid]);
  sxp.push(['memory', row.memory], ['maxmem', row.maxmem], ['vcpus', row.vcpus], ['state', row.state], ['cpu_time', Number(row.cpuTime.toFixed(3))]);
  if (row.accel) sxp.push(['accel', row.accel]);
  if (row.startTime) sxp.push(['start_time', Math.floor(row.startTime / 1000)]);
  if (row.restartCount !== undefined) sxp.push(['restart_count', row.restartCount]);
  if (row.configPath) sxp.push(['config_file', row.configPath]);
  if (row.config) {
    const image: SxpValue[] = ['config'];
    for (const line of row.config.split('\n')) {
      const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (m) image.push([m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]);
    }
    sxp.push(image);
  }
  return sxp;
}

/** Xen's state filter names for `--state`. */
const STATE_LETTER: Record<string, string> = { running: 'r', blocked: 'b', paused: 'p', shutdown: 's', crashed: 'c', dying: 'd' };

function notFound(name: string): Error {
  return new Error(`Domain '${name}' does not exist.`);
}

export const COMMANDS: Command[] = [
  {
    name: 'list',
    usage: 'list [options] [Domain, ...]',
    summary: 'List information about all/some domains.\n  -l, --long            Output all VM details in SXP\n  --state=<state>       Select only VMs with the specified state',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-l': 'long', '--long': 'long' }, { '--state': 'state' });
      const client = await ctx.client();
      let rows = await client.call('domain.list', { includeConfig: opts.long === true });
      if (rest.length) {
        for (const name of rest) if (!rows.some((r) => r.name === name || String(r.domid) === name)) throw notFound(name);
        rows = rows.filter((r) => rest.includes(r.name) || rest.includes(String(r.domid)));
      }
      if (typeof opts.state === 'string') {
        const letter = STATE_LETTER[opts.state];
        if (!letter) throw new UsageError(`Invalid state '${opts.state}'; use one of ${Object.keys(STATE_LETTER).join(', ')}`);
        rows = rows.filter((r) => r.state.includes(letter));
      }
      if (opts.long) {
        ctx.out(rows.map((r) => formatSxp(rowSxp(r))).join('\n') + '\n');
      } else {
        ctx.out(formatList(rows.map((r) => ({ name: r.name, domid: r.domid, memory: r.memory, vcpus: r.vcpus, state: r.state, cpuTime: r.cpuTime }))));
      }
      return 0;
    },
  },
  {
    name: 'create',
    usage: 'create <ConfigFile> [options] [vars]',
    summary:
      'Create a domain based on <ConfigFile>.\n  -c, --console_autoconnect  Connect to the console after the domain is created\n  -p, --paused          Leave the domain paused after it is created\n  -n, --dryrun          Dry run: print the resolved config and the QEMU command line; start nothing\n  var=value             Override a setting of the config file',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-c': 'console', '--console_autoconnect': 'console', '-p': 'paused', '--paused': 'paused', '-n': 'dryrun', '--dryrun': 'dryrun' });
      const files = rest.filter((a) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(a));
      const overrides = rest.filter((a) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(a));
      if (files.length === 0 && overrides.length > 0) files.push('/dev/null');
      needArgs('create', files, 1);
      const { text, file } = readConfig(files[0]!, ctx);
      const client = await ctx.client();
      if (file !== '/dev/null') ctx.out(`Using config file "${file}".\n`);
      const result = await client.call('domain.create', { text, file, overrides, paused: opts.paused === true, dryRun: opts.dryrun === true });
      for (const w of result.warnings) ctx.err(`Warning: ${w}\n`);
      if (opts.dryrun) {
        ctx.out(`${result.config}\nQEMU command line:\n${result.qemu}`);
        return 0;
      }
      ctx.out(`Started domain ${result.name} (id=${result.domid})\n`);
      if (opts.console) return attachConsole(client, result.name, { quiet: false });
      return 0;
    },
  },
  {
    name: 'new',
    usage: 'new <ConfigFile> [vars]',
    summary: 'Add a domain to the Xend managed domains (define it without starting).',
    async run(ctx, args) {
      const overrides = args.filter((a) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(a));
      const files = args.filter((a) => !overrides.includes(a));
      needArgs('new', files, 1);
      const { text, file } = readConfig(files[0]!, ctx);
      const result = await (await ctx.client()).call('domain.define', { text, file, overrides });
      for (const w of result.warnings) ctx.err(`Warning: ${w}\n`);
      return 0;
    },
  },
  {
    name: 'start',
    usage: 'start <DomainName> [-p] [-c]',
    summary: 'Start a Xend managed domain.\n  -p, --paused          Do not unpause domain after starting it\n  -c, --console_autoconnect  Connect to the console after the domain is started',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-p': 'paused', '--paused': 'paused', '-c': 'console', '--console_autoconnect': 'console' });
      needArgs('start', rest, 1);
      const client = await ctx.client();
      const result = await client.call('domain.start', { name: rest[0]!, paused: opts.paused === true });
      ctx.out(`Started domain ${result.name} (id=${result.domid})\n`);
      if (opts.console) return attachConsole(client, result.name, { quiet: false });
      return 0;
    },
  },
  {
    name: 'delete',
    usage: 'delete <DomainName>',
    summary: 'Remove a domain from Xend domain management.',
    async run(ctx, args) {
      needArgs('delete', args, 1);
      await (await ctx.client()).call('domain.undefine', { name: args[0]! });
      return 0;
    },
  },
  simple('destroy', 'destroy <Domain>', 'Terminate a domain immediately.', (c, d) => c.call('domain.destroy', { ref: d })),
  {
    name: 'shutdown',
    usage: 'shutdown <Domain> [-waRH]',
    summary: 'Shutdown a domain.\n  -a, --all             Shutdown all guest domains\n  -w, --wait            Wait for the domain to shut down\n  -R, --reboot          Reboot the domain\n  -H, --halt            Halt the domain (the default)',
    run: (ctx, args) => shutdownCommand(ctx, args, false),
  },
  {
    name: 'reboot',
    usage: 'reboot <Domain> [-wa]',
    summary: 'Reboot a domain.\n  -a, --all             Reboot all guest domains\n  -w, --wait            Wait for the domain to be gone before returning',
    run: (ctx, args) => shutdownCommand(ctx, args, true),
  },
  simple('pause', 'pause <Domain>', 'Pause execution of a domain.', (c, d) => c.call('domain.pause', { ref: d })),
  simple('unpause', 'unpause <Domain>', 'Unpause a paused domain.', (c, d) => c.call('domain.unpause', { ref: d })),
  {
    name: 'console',
    usage: 'console [-q|--quiet] <Domain>',
    summary: 'Attach to <Domain>\'s console. Detach with Ctrl-].\n  -q, --quiet           Do not print an error message if the domain does not exist',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-q': 'quiet', '--quiet': 'quiet' });
      needArgs('console', rest, 1);
      const client = await ctx.client();
      try {
        return await attachConsole(client, ref(rest[0]!), { quiet: opts.quiet === true });
      } catch (err) {
        if (opts.quiet) return 1;
        throw err;
      }
    },
  },
  {
    name: 'info',
    usage: 'info',
    summary: 'Get information about the Dom0 host.',
    async run(ctx, args) {
      needArgs('info', args, 0);
      const i = await (await ctx.client()).call('host.info');
      ctx.out(
        formatInfo([
          ['host', i.host],
          ['release', i.release],
          ['version', i.version],
          ['machine', i.machine],
          ['nr_cpus', i.nr_cpus],
          ['cpu_mhz', i.cpu_mhz],
          ['total_memory', i.total_memory],
          ['free_memory', i.free_memory],
          ['qemu_version', i.qemu_version],
          ['accelerator', i.accelerator],
          ['accelerator_reason', i.accelerator_reason],
          ['dom0_version', i.dom0_version],
          ['xend_pid', i.xend_pid],
          ['config_dir', i.config_dir],
          ['data_dir', i.data_dir],
          ['runtime_dir', i.runtime_dir],
        ]),
      );
      return 0;
    },
  },
  {
    name: 'log',
    usage: 'log',
    summary: 'Print the xend log.',
    async run(ctx, args) {
      needArgs('log', args, 0);
      const { text } = await (await ctx.client()).call('log.read', { lines: 1000 });
      ctx.out(text);
      return 0;
    },
  },
  {
    name: 'uptime',
    usage: 'uptime [-s] [Domain, ...]',
    summary: 'Print uptime for all/some domains.\n  -s, --short           Print in short format',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-s': 'short', '--short': 'short' });
      const client = await ctx.client();
      const [rows, host] = await Promise.all([client.call('domain.list'), client.call('host.info')]);
      let live = rows.filter((r) => r.domid !== undefined);
      if (rest.length) {
        for (const n of rest) if (!live.some((r) => r.name === n || String(r.domid) === n)) throw notFound(n);
        live = live.filter((r) => rest.includes(r.name) || rest.includes(String(r.domid)));
      }
      const now = Date.now();
      const secs = (r: DomainRow) => (r.domid === 0 ? host.uptime : (now - (r.startTime ?? now)) / 1000);
      if (opts.short) {
        for (const r of live) ctx.out(`${formatUptimeShort(new Date(), r.name, r.domid, secs(r))}\n`);
      } else {
        ctx.out(formatUptimeHeader() + '\n' + live.map((r) => formatUptimeRow(r.name, r.domid!, secs(r))).join('\n') + '\n');
      }
      return 0;
    },
  },
  {
    name: 'domid',
    usage: 'domid <DomainName>',
    summary: 'Convert a domain name to domain id.',
    async run(ctx, args) {
      needArgs('domid', args, 1);
      const row = (await (await ctx.client()).call('domain.list')).find((r) => r.name === args[0] && r.domid !== undefined);
      if (!row) throw notFound(args[0]!);
      ctx.out(`${row.domid}\n`);
      return 0;
    },
  },
  {
    name: 'domname',
    usage: 'domname <DomainId>',
    summary: 'Convert a domain id to domain name.',
    async run(ctx, args) {
      needArgs('domname', args, 1);
      const row = (await (await ctx.client()).call('domain.list')).find((r) => String(r.domid) === args[0]);
      if (!row) throw notFound(args[0]!);
      ctx.out(`${row.name}\n`);
      return 0;
    },
  },
  {
    name: 'rename',
    usage: 'rename <Domain> <NewDomainName>',
    summary: 'Rename a domain.',
    async run(ctx, args) {
      needArgs('rename', args, 2);
      await (await ctx.client()).call('domain.rename', { ref: ref(args[0]!), newName: args[1]! });
      return 0;
    },
  },
  {
    name: 'mem-set',
    usage: 'mem-set <Domain> <Mem>',
    summary: 'Set the current memory usage for a domain (MiB).',
    async run(ctx, args) {
      needArgs('mem-set', args, 2);
      await (await ctx.client()).call('domain.memSet', { ref: ref(args[0]!), mib: int(args[1]!, 'memory') });
      return 0;
    },
  },
  {
    name: 'mem-max',
    usage: 'mem-max <Domain> <Mem>',
    summary: 'Set the maximum amount reservation for a domain (MiB).',
    async run(ctx, args) {
      needArgs('mem-max', args, 2);
      const r = await (await ctx.client()).call('domain.memMax', { ref: ref(args[0]!), mib: int(args[1]!, 'memory') });
      if (!r.effectiveNow) ctx.err('Warning: the new maximum is above the memory the domain booted with; mem-set can reach it after the next start.\n');
      return 0;
    },
  },
  {
    name: 'vcpu-set',
    usage: 'vcpu-set <Domain> <vCPUs>',
    summary: 'Set the number of active VCPUs allowed for the domain (up to maxvcpus).',
    async run(ctx, args) {
      needArgs('vcpu-set', args, 2);
      await (await ctx.client()).call('domain.vcpuSet', { ref: ref(args[0]!), count: int(args[1]!, 'vcpus') });
      return 0;
    },
  },
  {
    name: 'vcpu-list',
    usage: 'vcpu-list [Domain, ...]',
    summary: 'List the VCPUs for all/some domains.',
    async run(ctx, args) {
      const client = await ctx.client();
      const rows = args.length === 0 ? await client.call('domain.vcpuList', {}) : (await Promise.all(args.map((a) => client.call('domain.vcpuList', { ref: ref(a) })))).flat();
      ctx.out(formatVcpuHeader() + '\n' + rows.map((r) => formatVcpuRow(r)).join('\n') + '\n');
      return 0;
    },
  },
  {
    name: 'sysrq',
    usage: 'sysrq <Domain> <letter>',
    summary: 'Send a sysrq to a domain.',
    async run(ctx, args) {
      needArgs('sysrq', args, 2);
      await (await ctx.client()).call('domain.sysrq', { ref: ref(args[0]!), key: args[1]! });
      return 0;
    },
  },
  {
    name: 'dump-core',
    usage: 'dump-core [-L|--live] [-C|--crash] [-R|--reset] <Domain> [Filename]',
    summary:
      'Dump core for a specific domain.\n  -L, --live            Dump core without pausing the domain\n  -C, --crash           Crash domain after dumping core\n  -R, --reset           Reset domain after dumping core',
    async run(ctx, args) {
      const { opts, rest } = parseOpts(args, { '-L': 'live', '--live': 'live', '-C': 'crash', '--crash': 'crash', '-R': 'reset', '--reset': 'reset' });
      needArgs('dump-core', rest, 1, 2);
      if (opts.crash && opts.reset) throw new UsageError('-C and -R cannot be used together');
      const path = rest[1] === undefined ? undefined : resolve(ctx.cwd, rest[1]);
      const r = await (await ctx.client()).call('domain.dumpCore', { ref: ref(rest[0]!), path, live: opts.live === true, crash: opts.crash === true, reset: opts.reset === true });
      ctx.out(`Dumping core of domain: ${rest[0]} to ${r.path} ...\n`);
      return 0;
    },
  },
  ...STORAGE_COMMANDS,
  ...NETWORK_COMMANDS,
  ...TOP_COMMANDS,
  ...LIFECYCLE_COMMANDS,
  ...SCHED_COMMANDS,
];

async function shutdownCommand(ctx: XmContext, args: string[], reboot: boolean): Promise<number> {
  const { opts, rest } = parseOpts(args, { '-a': 'all', '--all': 'all', '-w': 'wait', '--wait': 'wait', '-R': 'reboot', '--reboot': 'reboot', '-H': 'halt', '--halt': 'halt' });
  const doReboot = reboot || opts.reboot === true;
  const name = reboot ? 'reboot' : 'shutdown';
  const client = await ctx.client();
  if (opts.all) {
    needArgs(name, rest, 0);
    const names = await client.call('domain.shutdownAll', { reboot: doReboot, wait: opts.wait === true });
    for (const n of names) ctx.out(`Domain ${n} ${doReboot ? 'rebooted' : 'terminated'}\n`);
    if (opts.wait) ctx.out(`All domains ${doReboot ? 'rebooted' : 'terminated'}\n`);
    return 0;
  }
  needArgs(name, rest, 1);
  await client.call('domain.shutdown', { ref: ref(rest[0]!), reboot: doReboot, wait: opts.wait === true });
  if (opts.wait) ctx.out(`Domain ${rest[0]} ${doReboot ? 'rebooted' : 'terminated'}\nAll domains ${doReboot ? 'rebooted' : 'terminated'}\n`);
  return 0;
}

function simple(name: string, usage: string, summary: string, call: (c: XendClient, d: string | number) => Promise<unknown>): Command {
  return {
    name,
    usage,
    summary,
    async run(ctx, args) {
      needArgs(name, args, 1);
      await call(await ctx.client(), ref(args[0]!));
      return 0;
    },
  };
}

export function helpText(command?: string): string {
  if (command) {
    const c = COMMANDS.find((x) => x.name === command);
    if (!c) throw new UsageError(`Subcommand ${command} not found!`);
    return `Usage: xm ${c.usage}\n\n${c.summary}\n`;
  }
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(16)}${c.summary.split('\n')[0]}`);
  return `Usage: xm <subcommand> [args]\n\nControl, list, and manipulate Dom0 domains.\n\nxm full list of subcommands:\n\n${lines.join('\n')}\n\n<Domain> can either be the Domain Name or Id.\nFor more help on 'xm' see the xm(1) man page.\nFor more help on 'xm create' see the xmdomain.cfg(5) man page.\n`;
}
