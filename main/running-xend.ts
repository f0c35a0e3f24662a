// Facts about an xend the app did not start, read the way xend itself reads them: its pid file
// `<runtime>/xend.pid` holds "<pid> <starttime>" (engine/xend/lock.ts); the pid and the start
// time together identify the process, so a recycled pid is not mistaken for xend.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// The one leaf we need; engine/qemu/index.ts would pull QEMU's argv builder into main's bundle.
import { isProcessAlive, readProcStat } from '../engine/qemu/procfs.js';

/** xend's unix socket (engine/xend/daemon.ts xendSocketPath, not imported: it pulls the daemon). */
export function xendSocketPath(runtimeDir: string): string {
  return join(runtimeDir, 'xend.sock');
}

/** The pid of the live xend that owns `runtimeDir`, if any. */
export function readLiveXendPid(runtimeDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(runtimeDir, 'xend.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, startText] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return undefined;
  if (startText !== undefined && startText !== '' && readProcStat(pid)?.startTicks !== Number(startText)) return undefined;
  return pid;
}

/**
 * SIGTERM to a foreign xend, then waits until it is gone. xend answers SIGTERM by closing its
 * sockets and letting go of its domains (they keep running). Never escalates to SIGKILL: the
 * process is not ours; if it does not stop, the caller reports it to the user.
 */
export async function stopXendProcess(pid: number, { timeoutMs = 30_000, pollMs = 100 } = {}): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw new Error(`cannot signal xend (pid ${pid}): ${(error as Error).message}`, { cause: error });
  }
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`xend (pid ${pid}) did not stop within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
