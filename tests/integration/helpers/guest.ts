// Waiting for the guest to catch up: hotplug, resizes and network setup complete asynchronously
// inside the guest, so a test re-runs a command until its output says so (bounded).

import type { SerialConsole } from './serial.js';

/** Run `command` in the guest until `ok(output)`; fails with the last output after `timeoutMs`. */
export async function guestUntil(serial: SerialConsole, command: string, ok: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await serial.run(command);
    if (ok(out)) return out;
    if (Date.now() > deadline) throw new Error(`guest: '${command}' never satisfied the condition; last output:\n${out}`);
    await serial.run('sleep 0.5');
  }
}
