#!/usr/bin/env node
// `xenstore-read [-p] key...`: print each value, one per line (-p: `key: value`). All keys are
// read in one transaction, so they come from one consistent state of the registry.

import { runCli } from '../xenstore/cli-common.js';

await runCli(
  { name: 'xenstore-read', usage: '[-p] key [...]', description: 'Print the value of each key (-p: prefixed by the key).', flags: 'p', minArgs: 1 },
  async ({ client, args, out, warn }) => {
    const result = await client.transaction(async (tx) => {
      const lines: string[] = [];
      for (const key of args.args) {
        const value = await tx.tryRead(key).catch(() => undefined);
        if (value === undefined) return { lines, failed: key };
        lines.push(args.flags.has('p') ? `${key}: ${value}\n` : `${value}\n`);
      }
      return { lines, failed: undefined };
    });
    out.push(...result.lines);
    if (result.failed === undefined) return 0;
    warn(`couldn't read path ${result.failed}`);
    return 1;
  },
);
