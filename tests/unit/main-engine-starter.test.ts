// Both starters: the Node-fork one with real child processes (this Node runs a small script), the
// utility-process one with a fake `utilityProcess.fork` shaped like Electron's.

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ForkOptions } from 'electron';
import { nodeForkStarter, utilityProcessStarter, type EngineExit, type EngineProcess, type UtilityChild } from '../../main/engine-starter.js';

const dir = mkdtempSync(join(tmpdir(), 'dom0-starter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function collect(proc: EngineProcess) {
  const out: string[] = [];
  const err: string[] = [];
  proc.onStdoutLine((l) => out.push(l));
  proc.onStderrLine((l) => err.push(l));
  const exited = new Promise<EngineExit>((resolve) => proc.onExit(resolve));
  return { out, err, exited };
}

describe('nodeForkStarter', () => {
  it('runs the module with the args and env, splits output into lines, reports the exit', async () => {
    const entry = script(
      'print.mjs',
      `process.stdout.write('first\\r\\nsec');
       setTimeout(() => { process.stdout.write('ond\\n' + JSON.stringify(process.argv.slice(2)) + '\\nWeb UI: ' + process.env.DOM0_HOME + '\\nno newline at end');
         process.stderr.write('Error: bad\\n'); process.exit(3); }, 20);`,
    );
    const proc = nodeForkStarter(entry).start(['--web', '127.0.0.1:0'], { PATH: process.env.PATH, DOM0_HOME: '/x/y' });
    expect(proc.pid).toBeGreaterThan(0);
    const { out, err, exited } = collect(proc);
    await expect(exited).resolves.toEqual({ code: 3, signal: null });
    expect(out).toEqual(['first', 'second', '["--web","127.0.0.1:0"]', 'Web UI: /x/y', 'no newline at end']);
    expect(err).toEqual(['Error: bad']);
  });

  it('passes kill signals on', async () => {
    const entry = script('wait.mjs', `process.stdout.write('up\\n'); setInterval(() => {}, 1000);`);
    const proc = nodeForkStarter(entry).start([], { PATH: process.env.PATH });
    const { out, exited } = collect(proc);
    await vi.waitFor(() => expect(out).toEqual(['up']));
    proc.kill('SIGKILL');
    await expect(exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    proc.kill(); // after the exit: nothing happens
  });

  it('reports a binary that cannot be started as an exit with the reason on stderr', async () => {
    const proc = nodeForkStarter('/nonexistent/xend.js', join(dir, 'no-such-node')).start([], {});
    const { err, exited } = collect(proc);
    await expect(exited).resolves.toEqual({ code: null, signal: null });
    expect(err.join('\n')).toMatch(/cannot start .*no-such-node: spawn .*ENOENT/);
  });
});

/** Electron's UtilityProcess as far as the starter uses it. */
function fakeUtilityChild() {
  const child = Object.assign(new EventEmitter(), {
    pid: undefined as number | undefined,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    kill: vi.fn(() => true),
  });
  return child;
}

describe('utilityProcessStarter', () => {
  it('forks the module as a utility process named xend with piped output, without ELECTRON_RUN_AS_NODE', () => {
    const child = fakeUtilityChild();
    const fork = vi.fn((_path: string, _args: string[], _options: ForkOptions): UtilityChild => child);
    utilityProcessStarter('/app/out/engine/cli/xend.js', fork).start(['--web', '127.0.0.1:0'], { DOM0_HOME: '/h', ELECTRON_RUN_AS_NODE: '1', UNSET: undefined });
    expect(fork).toHaveBeenCalledWith('/app/out/engine/cli/xend.js', ['--web', '127.0.0.1:0'], { serviceName: 'xend', stdio: 'pipe', env: { DOM0_HOME: '/h' } });
  });

  it('reads lines from its streams, delivers what is buffered at exit, then the exit', async () => {
    const child = fakeUtilityChild();
    const proc = utilityProcessStarter('/m.js', () => child).start([], {});
    const { out, err, exited } = collect(proc);
    child.stdout.write('Web UI: http://127.0.0.1:1/#token=t\npart');
    child.stderr.write('oops\n');
    await new Promise((r) => setImmediate(r));
    expect(out).toEqual(['Web UI: http://127.0.0.1:1/#token=t']);
    child.stdout.write('ial');
    child.emit('exit', 7);
    await expect(exited).resolves.toEqual({ code: 7, signal: null });
    expect(out).toEqual(['Web UI: http://127.0.0.1:1/#token=t', 'partial']);
    expect(err).toEqual(['oops']);
  });

  it('knows its pid once spawned, stops with kill() and kills harder by pid', () => {
    const child = fakeUtilityChild();
    const proc = utilityProcessStarter('/m.js', () => child).start([], {});
    expect(proc.pid).toBeUndefined();
    proc.kill('SIGKILL'); // no pid yet: only kill() can reach it
    expect(child.kill).toHaveBeenCalledTimes(1);
    child.pid = 4321;
    expect(proc.pid).toBe(4321);
    proc.kill();
    expect(child.kill).toHaveBeenCalledTimes(2);
    const processKill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    try {
      proc.kill('SIGKILL');
      expect(processKill).toHaveBeenCalledWith(4321, 'SIGKILL');
      expect(child.kill).toHaveBeenCalledTimes(2);
    } finally {
      processKill.mockRestore();
    }
  });
});
