#!/usr/bin/env node
// `xenstore-list [-p] key...`: the children of each key, one per line (-p: as full paths).

import { runCli } from '../xenstore/cli-common.js';

await runCli(
  { name: 'xenstore-list', usage: '[-p] key [...]', description: 'List the children of each key (-p: with the key as prefix).', flags: 'p', minArgs: 1 },
  async ({ client, args, out, warn }) => {
    const failed = await client.transaction(async (tx) => {
      const lines: string[] = [];
      for (const key of args.args) {
        const children = await tx.directory(key).catch(() => undefined);
        if (children === undefined) return { lines, key };
        const prefix = args.flags.has('p') ? (key.endsWith('/') ? key : `${key}/`) : '';
        for (const child of children) lines.push(`${prefix}${child}\n`);
      }
      return { lines, key: undefined };
    });
    out.push(...failed.lines);
    if (failed.key === undefined) return 0;
    warn(`could not list path ${failed.key}`);
    return 1;
  },
);
