// The xm command line as a user runs it: a real xend process, real guests, commands typed in a
// shell (execFile) and `xm console` in a real pseudo-terminal (node-pty).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isProcessAlive } from '../../engine/qemu/index.js';
import { GUEST_INITRD, GUEST_KERNEL, READY, requireGuest, stopXenstored } from './helpers/engine.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const XM = join(root, 'out/engine/cli/xm.js');
const XEND = join(root, 'out/engine/cli/xend.js');

let home: string;
let env: NodeJS.ProcessEnv;
let xend: ChildProcess | undefined;

async function xm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [XM, ...args], { env, cwd: home });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Start xend in the foreground, as `xend` would run under a service manager; resolve once it serves. */
async function startXend(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [XEND], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (stderr.includes('listening on')) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`xend exited (${code}): ${stderr}`)));
  });
  return child;
}

function guestCfg(name: string): string {
  const path = join(home, `${name}.cfg`);
  writeFileSync(
    path,
    [`name = "${name}"`, 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, 'extra = "console=ttyS0 panic=0 quiet"', "vif = ['']", ''].join('\n'),
  );
  return path;
}

/** `xm console` in a pseudo-terminal: type lines, wait for output. */
class ConsoleSession {
  output = '';
  readonly #term: pty.IPty;
  readonly exited: Promise<number>;

  constructor(domain: string) {
    this.#term = pty.spawn(process.execPath, [XM, 'console', domain], { env: env as Record<string, string>, cols: 200, rows: 40, cwd: home });
    this.#term.onData((d) => (this.output += d));
    this.exited = new Promise((resolve) => this.#term.onExit(({ exitCode }) => resolve(exitCode)));
  }

  type(text: string): void {
    this.#term.write(text);
  }

  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`xm console: no ${pattern} within ${timeoutMs} ms; got:\n${this.output.slice(-1500)}`);
      await new Promise<void>((resolve) => {
        const sub = this.#term.onData(() => {
          sub.dispose();
          resolve();
        });
        setTimeout(() => {
          sub.dispose();
          resolve();
        }, 1000);
      });
    }
  }

  kill(): void {
    this.#term.kill();
  }
}

/** Wait until the guest's serial log shows its first prompt: typing earlier is lost by the guest. */
async function waitBooted(domain: string, timeoutMs = 60_000): Promise<void> {
  const log = join(home, 'run/domains', domain, 'serial.log');
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(log) && READY.test(readFileSync(log, 'utf8')))) {
    if (Date.now() > deadline) throw new Error(`${domain} did not boot within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Run a command in the guest through `xm console` and detach with Ctrl-]. */
async function consoleRun(domain: string, command: string, expect: RegExp): Promise<string> {
  await waitBooted(domain);
  const session = new ConsoleSession(domain);
  try {
    // The console is attached once a key typed shows a prompt.
    session.type('\r');
    await session.waitFor(/guest# /);
    session.type(`${command}\r`);
    await session.waitFor(expect);
    session.type('\x1d');
    expect.lastIndex = 0;
    const code = await session.exited;
    if (code !== 0) throw new Error(`xm console exited with ${code}`);
    return session.output;
  } finally {
    session.kill();
  }
}

beforeAll(async () => {
  requireGuest();
  home = mkdtempSync('/tmp/d0x-');
  env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
  if (!existsSync(XM)) throw new Error('build the engine first: npm run build:engine');
  xend = await startXend();
});

afterAll(async () => {
  await xm('destroy', 'cli-a').catch(() => undefined);
  await xm('destroy', 'cli-b').catch(() => undefined);
  xend?.kill('SIGTERM');
  await new Promise((r) => xend?.once('exit', r));
  stopXenstored(home);
  rmSync(home, { recursive: true, force: true });
});

describe('xm against a real xend', () => {
  test('xm help lists every command; xm help create shows its usage', async () => {
    const help = await xm('help');
    for (const c of ['list', 'create', 'destroy', 'shutdown', 'console', 'mem-set', 'vcpu-list', 'dump-core']) expect(help.stdout).toContain(`  ${c}`);
    expect((await xm('help', 'create')).stdout).toMatch(/^Usage: xm create <ConfigFile>/);
  });

  test("unknown domains and Domain-0 are refused in Xen's words, exit 1", async () => {
    expect(await xm('destroy', 'nosuch')).toMatchObject({ code: 1, stderr: "Error: Domain 'nosuch' does not exist.\n" });
    expect(await xm('destroy', '0')).toMatchObject({ code: 1, stderr: 'Error: Cannot destroy privileged domain 0\n' });
    expect((await xm('create')).stderr).toMatch(/^Error: 'xm create' requires 1 argument\./);
  });

  test('create -n prints the resolved config and the QEMU command line, and starts nothing', async () => {
    const r = await xm('create', '-n', guestCfg('cli-dry'), 'memory=96');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('memory = 96');
    expect(r.stdout).toMatch(/^-m size=96M$/m);
    expect((await xm('list')).stdout).not.toContain('cli-dry');
  });

  test('create a guest, see it in xm list, run a command through xm console, shut it down with -w', async () => {
    const created = await xm('create', guestCfg('cli-a'));
    expect(created.stdout).toMatch(/Started domain cli-a \(id=\d+\)/);
    const list = (await xm('list')).stdout.split('\n');
    expect(list[0]).toBe('Name                                        ID   Mem VCPUs      State   Time(s)');
    expect(list[1]).toMatch(/^Domain-0 +0 +\d+ +\d+ +r----- +\d+\.\d$/);
    expect(list.find((l) => l.startsWith('cli-a'))).toMatch(/^cli-a {35} +\d+ +128 +1 +(r-----|-b----) +\d+\.\d$/);
    await consoleRun('cli-a', 'echo console-$((20+22))', /console-42/);
    const down = await xm('shutdown', '-w', 'cli-a');
    expect(down).toMatchObject({ code: 0, stdout: 'Domain cli-a terminated\nAll domains terminated\n' });
    expect((await xm('list')).stdout).not.toContain('cli-a');
  });

  test('kill -9 xend while two guests run: a new xend finds both, same ids, consoles working', async () => {
    await xm('create', guestCfg('cli-a'));
    await xm('create', guestCfg('cli-b'));
    await consoleRun('cli-b', 'echo before-$((1+1))', /before-2/);
    const before = (await xm('list')).stdout;
    const ids = (name: string, text: string) => text.split('\n').find((l) => l.startsWith(name + ' '))?.split(/\s+/)[1];
    const pidA = Number(readFileSync(join(home, 'run/domains/cli-a/qemu.pid'), 'utf8'));

    xend!.kill('SIGKILL');
    await new Promise((r) => xend!.once('exit', r));
    expect(isProcessAlive(pidA)).toBe(true);
    expect((await xm('list')).stderr).toMatch(/Unable to connect to xend/);

    xend = await startXend();
    const after = (await xm('list')).stdout;
    expect(ids('cli-a', after)).toBe(ids('cli-a', before));
    expect(ids('cli-b', after)).toBe(ids('cli-b', before));
    await consoleRun('cli-a', 'echo after-$((2+3))', /after-5/);
    await consoleRun('cli-b', 'echo after-$((3+4))', /after-7/);
    expect((await xm('log')).stdout).toMatch(/re-adopted 2 running domain/);
    // The engine controls them as before.
    expect((await xm('pause', 'cli-b')).code).toBe(0);
    expect((await xm('list', '--state=paused')).stdout).toContain('cli-b');
    expect((await xm('destroy', 'cli-a')).code).toBe(0);
    expect(isProcessAlive(pidA)).toBe(false);
  });

  test('xenstore holds the Xen layout of a running domain and drops it when the domain goes', async () => {
    await xm('create', '-p', guestCfg('cli-xs'));
    const id = (await xm('domid', 'cli-xs')).stdout.trim();
    const read = (path: string) => run(process.execPath, [join(root, 'out/engine/cli/xenstore-read.js'), path], { env }).then((r) => r.stdout.trim());
    expect(await read(`/local/domain/${id}/name`)).toBe('cli-xs');
    expect(await read(`/local/domain/${id}/memory/target`)).toBe(String(128 * 1024));
    const vm = await read(`/local/domain/${id}/vm`);
    expect(await read(`${vm}/name`)).toBe('cli-xs');
    expect(await read(`/local/domain/${id}/device/vif/0/state`)).toBe('4');
    expect(await read('/local/domain/0/name')).toBe('Domain-0');
    await xm('mem-set', 'cli-xs', '100');
    await expect.poll(() => read(`/local/domain/${id}/memory/target`)).toBe(String(100 * 1024));
    await xm('destroy', 'cli-xs');
    const ls = join(root, 'out/engine/cli/xenstore-ls.js');
    await expect.poll(async () => (await run(process.execPath, [ls, '/local/domain'], { env })).stdout).not.toMatch(new RegExp(`^ ?${id} =`, 'm'));
  });

  test('a second xend on the same state dir refuses and names the owner', async () => {
    const second = await run(process.execPath, [XEND], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((second as { code: number }).code).toBe(1);
    expect((second as { stderr: string }).stderr).toMatch(new RegExp(`xend is already running for this state dir \\(pid ${xend!.pid}\\)`));
  });

  test('a defined domain with on_xend_start = "start" boots when xend starts', async () => {
    const cfg = guestCfg('cli-auto');
    writeFileSync(cfg, readFileSync(cfg, 'utf8') + 'on_xend_start = "start"\ndescription = "starts with the engine"\n');
    expect((await xm('new', cfg)).code).toBe(0);
    expect((await xm('list', 'cli-auto')).stdout).toMatch(/^cli-auto\s+128\s+1\s+------/m);
    xend!.kill('SIGTERM');
    await new Promise((r) => xend!.once('exit', r));
    xend = await startXend();
    await expect.poll(async () => (await xm('list', 'cli-auto')).stdout, { timeout: 60_000 }).toMatch(/^cli-auto\s+\d+\s+128/m);
    expect((await xm('log')).stdout).toMatch(/autostarted domain cli-auto/);
    await xm('destroy', 'cli-auto');
    await xm('delete', 'cli-auto');
  });

  test('new / start / delete manage a defined domain', async () => {
    expect((await xm('new', guestCfg('cli-def'))).code).toBe(0);
    expect((await xm('list')).stdout).toMatch(/^cli-def {34}\s+128 +1 +------ +0\.0$/m);
    const started = await xm('start', '-p', 'cli-def');
    expect(started.stdout).toMatch(/Started domain cli-def \(id=\d+\)/);
    expect((await xm('delete', 'cli-def')).stderr).toMatch(/is running/);
    await xm('destroy', 'cli-def');
    expect((await xm('delete', 'cli-def')).code).toBe(0);
    expect((await xm('list')).stdout).not.toContain('cli-def');
  });
});
