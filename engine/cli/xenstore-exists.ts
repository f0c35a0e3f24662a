#!/usr/bin/env node
// `xenstore-exists key...`: exit status 0 if every key exists (and is readable), 1 otherwise.
// Silent, for scripts.

import { runCli } from '../xenstore/cli-common.js';

await runCli(
  { name: 'xenstore-exists', usage: 'key [...]', description: 'Exit 0 if every key exists, 1 if not.', minArgs: 1 },
  async ({ client, args }) => {
    for (const key of args.args) {
      const value = await client.read(key).catch(() => undefined);
      if (value === undefined) return 1;
    }
    return 0;
  },
);
