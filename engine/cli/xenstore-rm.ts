#!/usr/bin/env node
// `xenstore-rm [-t] key...`: remove keys and everything below them. -t also removes parents
// left with an empty value and no children, up the tree (Xen's "tidy").

import { runCli } from '../xenstore/cli-common.js';

await runCli(
  {
    name: 'xenstore-rm',
    usage: '[-t] key [...]',
    description: 'Remove each key and everything below it (-t: also remove parents left empty).',
    flags: 't',
    minArgs: 1,
  },
  async ({ client, args, warn }) => {
    const tidy = args.flags.has('t');
    const failed = await client.transaction(async (tx) => {
      for (const key of args.args) {
        try {
          await tx.rm(key);
        } catch {
          return key;
        }
        if (!tidy) continue;
        for (let p = key, slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/')) {
          p = p.slice(0, slash);
          const value = await tx.tryRead(p).catch(() => undefined);
          if (value !== '') break;
          const children = await tx.directory(p).catch(() => undefined);
          if (children?.length !== 0) break;
          await tx.rm(p);
        }
      }
      return undefined;
    });
    if (failed === undefined) return 0;
    warn(`could not remove path ${failed}`);
    return 1;
  },
);
