#!/usr/bin/env node
// `xenstore-write key value [key value...]`: all pairs in one transaction.

import { runCli, UsageError } from '../xenstore/cli-common.js';

await runCli(
  { name: 'xenstore-write', usage: 'key value [...]', description: 'Write each value to its key, creating missing parents.', minArgs: 2 },
  async ({ client, args, warn }) => {
    if (args.args.length % 2 !== 0) throw new UsageError('keys and values come in pairs');
    const failed = await client.transaction(async (tx) => {
      for (let i = 0; i < args.args.length; i += 2) {
        const key = args.args[i] as string;
        try {
          await tx.write(key, args.args[i + 1] as string);
        } catch {
          return key;
        }
      }
      return undefined;
    });
    if (failed === undefined) return 0;
    warn(`could not write path ${failed}`);
    return 1;
  },
);
