// Starting a QEMU process for a domain. QEMU runs detached in its own session, so it outlives the
// engine; its stderr goes to qemu.log in the runtime dir so a failed start can be explained.
// Start is complete when QMP answers; if QEMU exits first, its stderr becomes the error.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QemuStartError } from './errors.js';
import { isProcessAlive } from './procfs.js';
import { QmpClient } from './qmp/index.js';

export interface LaunchedQemu {
  pid: number;
  qmp: QmpClient;
}

export interface LaunchOptions {
  binary: string;
  argv: string[];
  runtimeDir: string;
  /** Bound on how long QEMU may take to open its QMP socket. */
  startTimeoutMs?: number;
}

export async function launchQemu(opts: LaunchOptions): Promise<LaunchedQemu> {
  const logPath = join(opts.runtimeDir, 'qemu.log');
  const logFd = openSync(logPath, 'a', 0o600);
  let child;
  try {
    child = spawn(opts.binary, opts.argv, { detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  // spawn() reports a missing binary asynchronously through 'error'.
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit status ${code}`));
    child.once('error', (err) => resolve(err.message));
  });
  child.unref();
  if (pid === undefined) {
    throw new QemuStartError(`QEMU could not be started (${await exited})`, '');
  }
  const deadlineMs = opts.startTimeoutMs ?? 30_000;
  // Stop retrying the moment QEMU is gone: there will be no socket to wait for.
  const abort = new AbortController();
  void exited.then(() => abort.abort());
  const connecting = QmpClient.connectWithRetry(join(opts.runtimeDir, 'qmp.sock'), { deadlineMs, signal: abort.signal });
  const outcome = await Promise.race([
    connecting.then((qmp) => ({ qmp }), (error: unknown) => ({ error })),
    exited.then((how) => ({ exitedHow: how })),
  ]);
  if ('qmp' in outcome) return { pid, qmp: outcome.qmp };
  // Either QEMU died or QMP never came up. QEMU opens its QMP socket before it checks the disks,
  // so a bad disk can close the socket during the handshake a moment before the exit is reported:
  // give the exit that moment, then make sure no process is left, and explain.
  connecting.then((qmp) => qmp.close(), () => undefined);
  const exitedHow =
    'exitedHow' in outcome ? outcome.exitedHow : await Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, 2000))]);
  if (exitedHow === undefined && isProcessAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const stderr = readLog(logPath);
  if (exitedHow !== undefined) throw new QemuStartError(`QEMU exited while starting (${exitedHow})`, stderr);
  throw new QemuStartError(`QEMU did not open its QMP socket within ${deadlineMs} ms (${String((outcome as { error: unknown }).error)})`, stderr);
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-8192);
  } catch {
    return '';
  }
}
