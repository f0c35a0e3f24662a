#!/usr/bin/env node
// `xenstore-watch [-n N] key...`: print the path of every change at or below each key (the
// first line per key comes at once, when the watch is set), until interrupted or N events.

import { runCli, UsageError } from '../xenstore/cli-common.js';

await runCli(
  { name: 'xenstore-watch', usage: '[-n NR] key [...]', description: 'Print the path of each change at or below key; -n: stop after NR events.', valueOptions: 'n', minArgs: 1 },
  async ({ client, args, warn }) => {
    const n = args.values.get('n');
    if (n !== undefined && !/^[1-9][0-9]*$/.test(n)) throw new UsageError('-n needs a positive number of events');
    const max = n === undefined ? Infinity : Number(n);
    let count = 0;
    let done!: (status: number) => void;
    const finished = new Promise<number>((resolve) => (done = resolve));
    client.onClose((error) => {
      if (error) warn(`lost the connection to xenstored: ${error.message}`);
      done(1);
    });
    for (const key of args.args) {
      await client.watch(key, key, (path) => {
        if (count >= max) return;
        count++;
        process.stdout.write(`${path}\n`);
        if (count >= max) done(0);
      });
    }
    return finished;
  },
);
