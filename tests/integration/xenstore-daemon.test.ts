// xenstored as users run it: the built daemon as its own process with its own DOM0_HOME, killed
// with SIGKILL in the middle of a write burst, started twice, and driven by the xenstore-* CLIs.

import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { XenstoreClient } from '../../engine/xenstore/index.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'out/engine/cli');

interface Daemon {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

const homes: string[] = [];
const running = new Set<Daemon>();

function newHome(): string {
  const home = mkdtempSync('/tmp/xsd-');
  homes.push(home);
  return home;
}

function socketOf(home: string): string {
  return join(home, 'run', 'xenstored.sock');
}

/** Starts xenstored; resolves once it serves, rejects with its stderr if it exits first. */
function startDaemon(home: string, args: string[] = []): Promise<Daemon> {
  const proc = spawn(process.execPath, [join(CLI, 'xenstored.js'), ...args], {
    env: { ...process.env, DOM0_HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const daemon: Daemon = { proc, stderr: () => stderr, exited };
  running.add(daemon);
  void exited.then(() => running.delete(daemon));
  return new Promise((resolve, reject) => {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      stderr += d;
      if (stderr.includes(' serving ')) resolve(daemon);
    });
    void exited.then((code) => reject(new Error(`xenstored exited (${code}) before serving:\n${stderr}`)));
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(home: string, name: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(CLI, `${name}.js`), ...args], { env: { ...process.env, DOM0_HOME: home } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  // Emits even if another room's files fail to type-check; what matters here is our output.
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.engine.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    if (!existsSync(join(CLI, 'xenstored.js'))) throw err;
  }
});

afterEach(async () => {
  for (const d of running) {
    d.proc.kill('SIGKILL');
    await d.exited;
  }
});

afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('xenstored survives SIGKILL', () => {
  it('every acknowledged write is there after a SIGKILL in the middle of a burst (3 rounds, with compaction)', async () => {
    const home = newHome();
    const acked = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      const daemon = await startDaemon(home, ['--compact-after-records', '300']);
      const clients = await Promise.all([0, 1, 2, 3].map(() => XenstoreClient.connect(socketOf(home))));
      let stop = false;
      let inFlight = 0;
      const writer = async (c: XenstoreClient, w: number) => {
        const pending = new Set<Promise<void>>();
        for (let n = 0; !stop; n++) {
          const key = `/burst/r${round}/w${w}/k${n}`;
          const value = `${round}.${w}.${n}.${Math.random().toString(36).slice(2)}`;
          const p: Promise<void> = c.write(key, value).then(
            () => {
              if (!stop) acked.set(key, value);
            },
            () => {
              stop = true;
            },
          );
          inFlight++;
          const tracked = p.finally(() => {
            inFlight--;
            pending.delete(tracked);
          });
          pending.add(tracked);
          if (pending.size >= 16) await Promise.race(pending);
        }
        await Promise.allSettled(pending);
      };
      const before = acked.size;
      const writers = clients.map((c, w) => writer(c, w));
      // Kill once this round has had a few hundred acknowledgements, with writes in flight.
      const target = before + 400 + Math.floor(Math.random() * 400);
      while (acked.size < target && !stop) await new Promise((r) => setTimeout(r, 5));
      expect(stop).toBe(false);
      expect(inFlight).toBeGreaterThan(0);
      daemon.proc.kill('SIGKILL');
      // Replies that arrive after this instant are not counted: the kill may have raced them.
      stop = true;
      await daemon.exited;
      await Promise.all(writers);
      for (const c of clients) await c.close();
    }
    const daemon = await startDaemon(home);
    expect(daemon.stderr()).toMatch(/journal records replayed/);
    const c = await XenstoreClient.connect(socketOf(home));
    const missing: string[] = [];
    const wrong: string[] = [];
    await Promise.all(
      [...acked].map(async ([key, value]) => {
        const got = await c.tryRead(key);
        if (got === undefined) missing.push(key);
        else if (got !== value) wrong.push(key);
      }),
    );
    await c.close();
    expect(acked.size).toBeGreaterThan(1200);
    expect({ missing: missing.slice(0, 5), wrong: wrong.slice(0, 5) }).toEqual({ missing: [], wrong: [] });
  });

  it('a second daemon on the same state dir refuses and names the first one pid', async () => {
    const home = newHome();
    const first = await startDaemon(home);
    const second = await startDaemon(home).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toContain(`already running for ${join(home, 'data')} (pid ${first.proc.pid}`);
    // The first one is unharmed.
    const c = await XenstoreClient.connect(socketOf(home));
    await c.write('/x', '1');
    await c.close();
  });

  it('starts over a stale lock and socket of a killed daemon; SIGTERM exits 0 and cleans up', async () => {
    const home = newHome();
    const killed = await startDaemon(home);
    const c = await XenstoreClient.connect(socketOf(home));
    await c.write('/kept', 'yes');
    await c.close();
    killed.proc.kill('SIGKILL');
    await killed.exited;
    expect(existsSync(socketOf(home))).toBe(true);
    const daemon = await startDaemon(home);
    expect(daemon.stderr()).toContain('stale lock');
    const d = await XenstoreClient.connect(socketOf(home));
    expect(await d.read('/kept')).toBe('yes');
    await d.close();
    daemon.proc.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(existsSync(socketOf(home))).toBe(false);
    expect(existsSync(join(home, 'data', 'xenstored.lock'))).toBe(false);
  });
});

describe('xenstore-* commands', () => {
  it('write, read, ls, list, exists, rm, chmod in Xen formats', async () => {
    const home = newHome();
    await startDaemon(home);
    const ok = async (name: string, args: string[]) => {
      const r = await cli(home, name, args);
      expect({ name, args, code: r.code, stderr: r.stderr }).toEqual({ name, args, code: 0, stderr: '' });
      return r.stdout;
    };
    await ok('xenstore-write', ['/local/domain/0/name', 'Domain-0', '/local/domain/0/memory/target', '524288', '/vm/u1/name', 'Domain-0']);
    await ok('xenstore-write', ['/vm/u1/weird', 'a\\b\nc"d']);
    expect(await ok('xenstore-read', ['/local/domain/0/name', '/local/domain/0/memory/target'])).toBe('Domain-0\n524288\n');
    expect(await ok('xenstore-read', ['-p', '/local/domain/0/name'])).toBe('/local/domain/0/name: Domain-0\n');
    expect(await ok('xenstore-ls', ['/local'])).toBe(
      ['domain = ""', ' 0 = ""', '  name = "Domain-0"', '  memory = ""', '   target = "524288"', ''].join('\n'),
    );
    expect(await ok('xenstore-ls', ['-f', '/vm'])).toBe(['/vm/u1 = ""', '/vm/u1/name = "Domain-0"', '/vm/u1/weird = "a\\\\b\\nc"d"', ''].join('\n'));
    expect(await ok('xenstore-ls', [])).toMatch(/^tool = ""\n xenstored = ""\nlocal = ""\n domain = ""\n/);
    await ok('xenstore-chmod', ['/vm/u1/name', 'n0', 'r3']);
    expect(await ok('xenstore-ls', ['-p', '/vm/u1'])).toBe(['name = "Domain-0"  (n0,r3)', 'weird = "a\\\\b\\nc"d"  (n0)', ''].join('\n'));
    expect(await ok('xenstore-list', ['/local/domain/0'])).toBe('name\nmemory\n');
    expect(await ok('xenstore-list', ['-p', '/local/domain/0'])).toBe('/local/domain/0/name\n/local/domain/0/memory\n');
    expect(await cli(home, 'xenstore-exists', ['/vm/u1/name'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await cli(home, 'xenstore-exists', ['/vm/u1/nope'])).toEqual({ code: 1, stdout: '', stderr: '' });

    const missing = await cli(home, 'xenstore-read', ['/local/domain/0/name', '/nope']);
    expect(missing).toEqual({ code: 1, stdout: 'Domain-0\n', stderr: "xenstore-read: couldn't read path /nope\n" });
    expect((await cli(home, 'xenstore-list', ['/nope'])).stderr).toBe('xenstore-list: could not list path /nope\n');
    expect((await cli(home, 'xenstore-ls', ['/nope'])).stderr).toBe('xenstore-ls: xs_directory (/nope): No such file or directory\n');

    // Permissions as a guest sees them, through --domid.
    await ok('xenstore-write', ['/local/domain/3/device/vif/0/state', '1']);
    await ok('xenstore-chmod', ['-r', '/local/domain/3', 'n3', 'r0']);
    expect(await ok('xenstore-read', ['--domid', '3', 'device/vif/0/state'])).toBe('1\n');
    const denied = await cli(home, 'xenstore-read', ['--domid', '4', '/local/domain/3/device/vif/0/state']);
    expect(denied).toMatchObject({ code: 1, stderr: "xenstore-read: couldn't read path /local/domain/3/device/vif/0/state\n" });
    const deniedWrite = await cli(home, 'xenstore-write', ['--domid', '4', '/local/domain/0/name', 'evil']);
    expect(deniedWrite).toMatchObject({ code: 1, stderr: 'xenstore-write: could not write path /local/domain/0/name\n' });
    const deniedChmod = await cli(home, 'xenstore-chmod', ['--domid', '4', '/vm/u1', 'b4']);
    expect(deniedChmod).toMatchObject({ code: 1, stderr: "xenstore-chmod: Error occurred setting permissions on '/vm/u1': Permission denied\n" });
    expect(await ok('xenstore-read', ['/local/domain/0/name'])).toBe('Domain-0\n');

    // rm -t tidies parents that are left empty and valueless.
    await ok('xenstore-write', ['/t/a/b/c', '1', '/t/keep', 'x']);
    await ok('xenstore-rm', ['-t', '/t/a/b/c']);
    expect(await ok('xenstore-ls', ['/t'])).toBe('keep = "x"\n');
    await ok('xenstore-rm', ['/t']);
    expect((await cli(home, 'xenstore-exists', ['/t'])).code).toBe(1);
    expect((await cli(home, 'xenstore-rm', ['/no/such/parent'])).stderr).toBe('xenstore-rm: could not remove path /no/such/parent\n');

    const usage = await cli(home, 'xenstore-write', ['/only-a-key']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('Usage: xenstore-write');
    const help = await cli(home, 'xenstore-ls', ['--help']);
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: xenstore-ls [-h] [-f] [-p] [path]') });
  });

  it('xenstore-watch -n prints the path of each event, the first at once, then exits', async () => {
    const home = newHome();
    await startDaemon(home);
    const proc = spawn(process.execPath, [join(CLI, 'xenstore-watch.js'), '-n', '3', '/w'], {
      env: { ...process.env, DOM0_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8');
    const firstLine = new Promise<void>((resolve) =>
      proc.stdout.on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    await firstLine;
    const c = await XenstoreClient.connect(socketOf(home));
    await c.write('/w/x', '1');
    await c.write('/elsewhere', '1');
    await c.rm('/w');
    await c.close();
    expect(await exited).toBe(0);
    expect(out).toBe('/w\n/w/x\n/w\n');
  });

  it('say clearly when xenstored is not running', async () => {
    const home = newHome();
    const r = await cli(home, 'xenstore-read', ['/x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`xenstore-read: xenstored is not running for ${join(home, 'run')}; start it with: node `);
    expect(r.stderr).toContain('xenstored.js');
    const help = spawn(process.execPath, [join(CLI, 'xenstored.js'), '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    help.stdout.on('data', (d: Buffer) => (text += d.toString()));
    expect(await new Promise((resolve) => help.once('exit', resolve))).toBe(0);
    expect(text).toContain('Usage: xenstored');
  });
});

describe('misbehaving clients', () => {
  it('garbage and a client that never reads do not stall a normal client', async () => {
    const home = newHome();
    const daemon = await startDaemon(home, ['--max-outbound-bytes', '65536']);
    const c = await XenstoreClient.connect(socketOf(home));
    await c.write('/big', 'x'.repeat(4096));

    const garbage = net.createConnection({ path: socketOf(home) });
    garbage.on('error', () => {});
    let garbageReply = '';
    garbage.on('data', (d: Buffer) => (garbageReply += d.toString()));
    const garbageClosed = new Promise((resolve) => garbage.once('close', resolve));
    garbage.write('\u0000\u0001 not json at all\n');

    const slow = net.createConnection({ path: socketOf(home) });
    slow.on('error', () => {});
    const slowClosed = new Promise((resolve) => slow.once('close', resolve));
    await new Promise((resolve) => slow.once('connect', resolve));
    slow.pause();
    slow.write(`${JSON.stringify({ id: 1, op: 'read', args: { path: '/big' } })}\n`.repeat(3000));

    // A half-sent line must not block anyone either.
    const partial = net.createConnection({ path: socketOf(home) });
    partial.on('error', () => {});
    partial.write('{"id":1,"op":"rea');

    const started = Date.now();
    for (let i = 0; i < 200; i++) await c.write(`/normal/${i}`, String(i));
    expect(await c.directory('/normal')).toHaveLength(200);
    expect(Date.now() - started).toBeLessThan(10_000);
    await garbageClosed;
    expect(JSON.parse(garbageReply)).toMatchObject({ id: null, error: 'EINVAL' });
    while (!daemon.stderr().includes('dropping a client')) await new Promise((r) => setTimeout(r, 10));
    // Dropped: once it reads, it finds the connection closed.
    slow.resume();
    await slowClosed;
    partial.destroy();
    await c.close();
  });
});
