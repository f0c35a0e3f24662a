#!/usr/bin/env node
// `xenstore-chmod [-r] key perm...`: set a key's permissions (-r: and of everything below it).
// Each perm is a letter (r read, w write, b both, n none) and a domain id; the first names the
// owner and the access of every domain not listed.

import { runCli, UsageError } from '../xenstore/cli-common.js';
import { ERRNO_TEXT, XenstoreError } from '../xenstore/index.js';
import type { Access, Permission, XenstoreTransaction } from '../xenstore/index.js';

class ChmodFailed extends Error {}

async function chmod(tx: XenstoreTransaction, path: string, perms: Permission[], recurse: boolean): Promise<void> {
  try {
    await tx.setPerms(path, perms);
  } catch (err) {
    const why = err instanceof XenstoreError ? ERRNO_TEXT[err.errno] : (err as Error).message;
    throw new ChmodFailed(`Error occurred setting permissions on '${path}': ${why}`);
  }
  if (!recurse) return;
  for (const child of await tx.directory(path)) await chmod(tx, `${path}${path.endsWith('/') ? '' : '/'}${child}`, perms, true);
}

await runCli(
  {
    name: 'xenstore-chmod',
    usage: '[-r] key perm [...]',
    description: 'Set the permissions of key (-r: recursively). perm: r|w|b|n followed by a domain id; the first is the owner.',
    flags: 'r',
    minArgs: 2,
  },
  async ({ client, args, warn }) => {
    const [path, ...specs] = args.args as [string, ...string[]];
    const perms = specs.map((spec): Permission => {
      const letter = spec[0] ?? '';
      if (!'rwbn'.includes(letter) || letter === '') throw new UsageError(`Invalid permission specification: '${letter}'`);
      const id = spec.slice(1);
      if (!/^(0|[1-9][0-9]{0,4})$/.test(id)) throw new UsageError(`Invalid domain id in permission '${spec}'`);
      return { access: letter as Access, domid: Number(id) };
    });
    try {
      await client.transaction((tx) => chmod(tx, path, perms, args.flags.has('r')));
    } catch (err) {
      if (!(err instanceof ChmodFailed)) throw err;
      warn(err.message);
      return 1;
    }
    return 0;
  },
);
