// Finding and stopping an xend the app did not start, with real processes standing in for it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readProcStat } from '../../engine/qemu/procfs.js';
import { readLiveXendPid, stopXendProcess, xendSocketPath } from '../../main/running-xend.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runtimeDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dom0-run-'));
  dirs.push(d);
  return d;
}

/** A stand-in xend: prints "up", exits on SIGTERM unless told to ignore it. */
async function standIn(ignoreTerm = false): Promise<ChildProcess> {
  const code = `process.on('SIGTERM', () => { ${ignoreTerm ? '' : 'process.exit(0);'} }); setInterval(() => {}, 1000); console.log('up');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return child;
}

describe('readLiveXendPid', () => {
  it("names the pid in xend.pid while that process lives and its start time matches", async () => {
    const dir = runtimeDir();
    expect(readLiveXendPid(dir)).toBeUndefined();
    const child = await standIn();
    const start = readProcStat(child.pid!)!.startTicks;
    writeFileSync(join(dir, 'xend.pid'), `${child.pid} ${start}\n`);
    expect(readLiveXendPid(dir)).toBe(child.pid);
    // A recycled pid (another start time) is not xend.
    writeFileSync(join(dir, 'xend.pid'), `${child.pid} ${start + 1}\n`);
    expect(readLiveXendPid(dir)).toBeUndefined();
    // An old-style file without a start time.
    writeFileSync(join(dir, 'xend.pid'), `${child.pid}\n`);
    expect(readLiveXendPid(dir)).toBe(child.pid);
  });

  it('ignores a stale or garbled pid file', async () => {
    const dir = runtimeDir();
    const child = await standIn();
    const pid = child.pid!;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    writeFileSync(join(dir, 'xend.pid'), `${pid} 1\n`);
    expect(readLiveXendPid(dir)).toBeUndefined();
    writeFileSync(join(dir, 'xend.pid'), 'garbage');
    expect(readLiveXendPid(dir)).toBeUndefined();
  });

  it('knows where the socket is', () => {
    expect(xendSocketPath('/run/user/1000/dom0')).toBe('/run/user/1000/dom0/xend.sock');
  });
});

describe('stopXendProcess', () => {
  it('sends SIGTERM and resolves once the process is gone', async () => {
    const child = await standIn();
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await stopXendProcess(child.pid!, { pollMs: 10 });
    await expect(exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('does not escalate: an xend that stays is reported', async () => {
    const child = await standIn(true);
    const kill = vi.spyOn(process, 'kill');
    try {
      await expect(stopXendProcess(child.pid!, { timeoutMs: 100, pollMs: 10 })).rejects.toThrow(`xend (pid ${child.pid}) did not stop within 0.1 s`);
      expect(kill.mock.calls).toEqual([[child.pid, 'SIGTERM']]);
    } finally {
      kill.mockRestore();
    }
  });

  it('is done at once when the process is already gone', async () => {
    await expect(stopXendProcess(2 ** 22 + 12345)).resolves.toBeUndefined();
  });
});
