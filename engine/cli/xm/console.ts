// `xm console`: the guest's serial console on this terminal. The terminal is put in raw mode so
// every key (Ctrl-C included) reaches the guest; Ctrl-] (0x1d) detaches, as in Xen.

import type { Duplex } from 'node:stream';
import type { XendClient } from './commands.js';

const DETACH = 0x1d;

export async function attachConsole(client: XendClient, ref: string | number, _opts: { quiet: boolean }): Promise<number> {
  const stream: Duplex = await client.openStream('console.serial', { ref, replayBytes: 0 });
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      stdin.off('data', onInput);
      stdin.pause();
      if (raw) stdin.setRawMode(false);
      stream.destroy();
      resolve(0);
    };
    const onInput = (chunk: Buffer) => {
      const at = chunk.indexOf(DETACH);
      if (at >= 0) {
        if (at > 0) stream.write(chunk.subarray(0, at));
        finish();
        return;
      }
      stream.write(chunk);
    };
    stdin.on('data', onInput);
    stdin.resume();
    stream.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    // The client hands the stream over paused, so nothing is lost before we listen.
    stream.resume();
    stream.on('close', finish);
    stream.on('error', finish);
  });
}
