#!/usr/bin/env node
// `xenstore-ls [-f] [-p] [path]`: the tree below path (default /) in Xen's xsls format:
//   name = "value"          one space of indent per level below path
//   /full/path = "value"    with -f
//   ... = "value"  (n0,r1)  with -p, the node's permissions
// Values are escaped as Xen does (backslash, control and non-ASCII bytes). On a terminal, long
// lines are cut to its width with `\...` as xsls does; piped output is never cut.

import { runCli, sanitiseValue } from '../xenstore/cli-common.js';
import { ERRNO_TEXT, XenstoreError, formatPermissions } from '../xenstore/index.js';
import type { XenstoreClient } from '../xenstore/index.js';

const TAG_LEN = ' = "...\\"'.length;

async function printDir(client: XenstoreClient, path: string, depth: number, opts: { full: boolean; perms: boolean; width: number }, out: string[]): Promise<void> {
  let children: string[];
  try {
    children = await client.directory(path);
  } catch (err) {
    throw new Error(`xs_directory (${path}): ${err instanceof XenstoreError ? ERRNO_TEXT[err.errno] : (err as Error).message}`);
  }
  for (const name of children) {
    const child = `${path}${path.endsWith('/') ? '' : '/'}${name}`;
    const [value, perms] = await Promise.all([
      client.read(child).catch(() => undefined),
      opts.perms ? client.getPerms(child).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    let line = opts.full ? child : `${' '.repeat(depth)}${name.slice(0, Math.max(0, opts.width - TAG_LEN - depth))}`;
    if (value === undefined) {
      line += ':';
    } else {
      const shown = sanitiseValue(value);
      if (!opts.full && opts.width < line.length + shown.length + TAG_LEN) {
        line += ` = "${shown.slice(0, Math.max(0, opts.width - TAG_LEN - line.length))}\\..."`;
      } else {
        line += ` = "${shown}"`;
      }
    }
    if (opts.perms) line += perms ? `  (${formatPermissions(perms).join(',')})` : '';
    out.push(`${line}\n`);
    if (opts.perms && !perms) process.stderr.write(`xenstore-ls: could not access permissions for ${name}\n`);
    await printDir(client, child, depth + 1, opts, out);
  }
}

await runCli(
  {
    name: 'xenstore-ls',
    usage: '[-f] [-p] [path]',
    description: 'Show the tree below path (default /): -f full paths, -p permissions.',
    flags: 'fp',
    maxArgs: 1,
  },
  async ({ client, args, out }) => {
    const width = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Number.MAX_SAFE_INTEGER;
    await printDir(client, args.args[0] ?? '/', 0, { full: args.flags.has('f'), perms: args.flags.has('p'), width }, out);
    return 0;
  },
);
