// The system-wide xend's socket: DOM0_SOCKET_MODE=0660 (set by the packaged systemd unit, with
// Group=dom0) opens it to the group; 0600 stays the default; any other value is refused.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { stopXenstored } from './helpers/engine.js';

const run = promisify(execFile);
const XEND = join(import.meta.dirname, '../../out/engine/cli/xend.js');
const homes: string[] = [];

async function xend(mode: string | undefined, ...args: string[]) {
  const home = mkdtempSync('/tmp/d0sock-');
  homes.push(home);
  const env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg', DOM0_SOCKET_MODE: mode };
  if (mode === undefined) delete env.DOM0_SOCKET_MODE;
  const result = await run(process.execPath, [XEND, ...args], { env }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
  return { home, env, result };
}

afterAll(async () => {
  for (const home of homes) {
    await run(process.execPath, [XEND, 'stop'], { env: { ...process.env, DOM0_HOME: home } }).catch(() => undefined);
    stopXenstored(home);
    rmSync(home, { recursive: true, force: true });
  }
});

describe("xend's socket mode", () => {
  test.each([['unset', undefined, 0o600], ['0660', '0660', 0o660]])('DOM0_SOCKET_MODE %s: the socket mode', async (_label, mode, expected) => {
    const { home, result } = await xend(mode, 'start');
    expect(result.code).toBe(0);
    expect(statSync(join(home, 'run/xend.sock')).mode & 0o777).toBe(expected);
  });

  test('anything wider is refused, saying which values work', async () => {
    const { result } = await xend('0666');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DOM0_SOCKET_MODE=0666 is not valid: use 0600 \(only this user\) or 0660 \(this user and the group\)/);
  });
});
