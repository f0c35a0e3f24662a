// What other local users can reach: a runtime dir another user made (or a link, or one others can
// write) is refused by xend; xm does not talk to a socket another user owns; the background
// xend's output file (which holds the web token) and every state file and dir it creates are the
// owner's alone. Run through the real xend and xm, as a user runs them.

import { execFile, spawn } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { GUEST_INITRD, GUEST_KERNEL, stopXenstored } from './helpers/engine.js';
import { XEND, XM } from './helpers/xend-process.js';

const run = promisify(execFile);
const homes: string[] = [];
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function home(): string {
  const h = mkdtempSync('/tmp/d0k-');
  homes.push(h);
  return h;
}

afterAll(() => {
  for (const h of homes) {
    stopXenstored(h);
    rmSync(h, { recursive: true, force: true });
  }
});

async function cli(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [script, ...args], { env, timeout: 60_000 });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** xend in the foreground until it exits on its own (a refused start) or serves (then it is stopped). */
function xendForeground(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [XEND], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('listening on')) child.kill('SIGTERM');
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('the runtime dir', () => {
  test.skipIf(!isRoot)('xend refuses a runtime dir another user created, and creates nothing in it', async () => {
    const h = home();
    mkdirSync(join(h, 'run'));
    chownSync(join(h, 'run'), NOBODY, NOBODY);
    const r = await xendForeground({ ...process.env, DOM0_HOME: h, DOM0_ACCEL: 'tcg' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/runtime directory .*\/run belongs to uid 65534, not to you \(uid 0\).*XDG_RUNTIME_DIR/);
    expect(readdirSync(join(h, 'run'))).toEqual([]);
  });

  test('xend refuses a runtime dir that is a symlink, or writable by others', async () => {
    const h = home();
    mkdirSync(join(h, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(h, 'elsewhere'), join(h, 'run'));
    const linked = await xendForeground({ ...process.env, DOM0_HOME: h, DOM0_ACCEL: 'tcg' });
    expect(linked.code).not.toBe(0);
    expect(linked.stderr).toMatch(/runtime directory .*\/run is a symbolic link/);
    expect(readdirSync(join(h, 'elsewhere'))).toEqual([]);

    const h2 = home();
    mkdirSync(join(h2, 'run'));
    chmodSync(join(h2, 'run'), 0o1777);
    const open = await xendForeground({ ...process.env, DOM0_HOME: h2, DOM0_ACCEL: 'tcg' });
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/runtime directory .*\/run is writable by other users \(mode 1777\)/);
  });

  test.skipIf(!isRoot)('xm does not talk to an xend.sock another user owns', async () => {
    const h = home();
    mkdirSync(join(h, 'run'), { mode: 0o755 });
    const sock = join(h, 'run', 'xend.sock');
    let connections = 0;
    const impostor = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => impostor.listen(sock, resolve));
    chownSync(sock, NOBODY, NOBODY);
    try {
      const r = await cli(XM, ['list'], { ...process.env, DOM0_HOME: h });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/xend\.sock belongs to uid 65534, not to you \(uid 0\) or root: another user may be impersonating the engine/);
      expect(connections).toBe(0);
    } finally {
      impostor.close();
    }
  });
});

describe('state files are private', () => {
  test('xend start --web keeps its output (with the token) 0600; definitions, images, backups, journal 0600, dirs 0700', async () => {
    if (!existsSync(join(import.meta.dirname, '../../out/renderer/index.html'))) throw new Error('build the renderer first: npm run build');
    const h = home();
    // An install made by an older version: a world-readable data dir and output file.
    mkdirSync(join(h, 'data'), { recursive: true, mode: 0o755 });
    chmodSync(join(h, 'data'), 0o755);
    writeFileSync(join(h, 'data', 'xend.stderr'), 'old\n', { mode: 0o644 });
    const env = { ...process.env, DOM0_HOME: h, DOM0_ACCEL: 'tcg' };
    const started = await cli(XEND, ['start', '--web', '127.0.0.1:0'], env);
    try {
      expect(started.code, started.stderr).toBe(0);
      const token = readFileSync(join(h, 'config', 'web-token'), 'utf8').trim();
      expect(readFileSync(join(h, 'data', 'xend.stderr'), 'utf8')).toContain(token);
      expect(mode(join(h, 'data', 'xend.stderr'))).toBe(0o600);
      expect(mode(join(h, 'config', 'web-token'))).toBe(0o600);

      const cfg = join(h, 'secret.cfg');
      writeFileSync(cfg, ['name = "secret"', 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, `disk = ['file:${h}/data/images/secret.qcow2,xvda,w']`, "vfb = ['vnc=1,vncpasswd=hunter2']", ''].join('\n'));
      const vol = await cli(XM, ['vol-create', 'default', 'secret.qcow2', '16M'], env);
      expect(vol.code, vol.stderr).toBe(0);
      expect((await cli(XM, ['new', cfg], env)).code).toBe(0);
      const backup = await cli(XM, ['backup', 'secret'], env);
      expect(backup.code, backup.stderr).toBe(0);
      const archive = /to (\S+\.tar\.gz)/.exec(backup.stdout)![1]!;

      for (const file of [join(h, 'config', 'domains', 'secret.cfg'), join(h, 'data', 'images', 'secret.qcow2'), archive]) {
        expect([file, mode(file).toString(8)]).toEqual([file, '600']);
      }
      for (const file of readdirSync(join(h, 'data')).filter((f) => f.startsWith('xenstore'))) {
        expect([file, mode(join(h, 'data', file)).toString(8)]).toEqual([file, '600']);
      }
      for (const dir of ['config', 'data', 'run', 'data/log']) {
        expect([dir, mode(join(h, dir)).toString(8)]).toEqual([dir, '700']);
      }
    } finally {
      await cli(XEND, ['stop'], env);
    }
  });
});
