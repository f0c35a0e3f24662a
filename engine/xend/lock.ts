// One xend per state dir. The lock is a pid file created with O_EXCL; a lock whose process is
// gone (killed with SIGKILL) is stale and taken over, so a crashed xend can always be restarted.

import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { isProcessAlive, readProcStat } from '../qemu/index.js';

export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  constructor(
    readonly pid: number,
    what: string,
  ) {
    super(`${what} is already running for this state dir (pid ${pid}); stop it first, or set DOM0_HOME to use another state dir`);
  }
}

export interface PidLock {
  release(): void;
}

export function acquirePidLock(path: string, what: string): PidLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      const start = readProcStat(process.pid)?.startTicks ?? 0;
      writeSync(fd, `${process.pid} ${start}\n`);
      closeSync(fd);
      return {
        release() {
          try {
            const [pid] = readFileSync(path, 'utf8').split(' ');
            if (Number(pid) === process.pid) rmSync(path, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (owner && isProcessAlive(owner.pid) && (owner.startTicks === undefined || readProcStat(owner.pid)?.startTicks === owner.startTicks)) {
      throw new AlreadyRunningError(owner.pid, what);
    }
    rmSync(path, { force: true });
  }
  throw new Error(`could not take the lock ${path}`);
}

function readOwner(path: string): { pid: number; startTicks?: number } | undefined {
  try {
    const [pid, start] = readFileSync(path, 'utf8').trim().split(' ');
    const n = Number(pid);
    if (!Number.isInteger(n) || n <= 0) return undefined;
    return { pid: n, startTicks: start ? Number(start) : undefined };
  } catch {
    return undefined;
  }
}
