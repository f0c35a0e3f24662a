// A real xend in web mode for end-to-end tests: its own DOM0_HOME, real QEMU guests under TCG,
// and Debian's Chromium driven by playwright-core. Nothing here is mocked.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connectUnix } from '../../../engine/protocol/node/unix-client.js';
import { xendMethods } from '../../../engine/protocol/common/xend-api.js';
import { stopXenstored } from '../../integration/helpers/engine.js';

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '../../..');
const XEND = join(ROOT, 'out/engine/cli/xend.js');
const XM = join(ROOT, 'out/engine/cli/xm.js');
const CACHE = join(ROOT, 'tests/fixtures/cache');
export const ARTIFACTS = join(ROOT, 'tests/e2e/artifacts');
export const CHROMIUM = process.env.DOM0_CHROMIUM ?? '/usr/bin/chromium';

export interface WebEngine {
  home: string;
  env: NodeJS.ProcessEnv;
  /** http://127.0.0.1:<port>/#token=… as xend printed it. */
  url: string;
  xm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Writes <home>/<name>.cfg for the test guest; extra lines win. */
  guestConfig(name: string, extra?: string): string;
  stop(): Promise<void>;
}

export async function startWebEngine(): Promise<WebEngine> {
  for (const f of [XEND, join(ROOT, 'out/renderer/index.html'), join(CACHE, 'vmlinux')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build and tests/fixtures/build-guest.sh (npm test does both)`);
  }
  const home = mkdtempSync('/tmp/d0e-');
  const env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
  const xend: ChildProcess = spawn(process.execPath, [XEND, '--web', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  xend.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    xend.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^Web UI: (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    xend.once('exit', (code) => reject(new Error(`xend exited (${code}) before serving:\n${err}`)));
  });
  const xm = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [XM, ...args], { env, cwd: home });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  };
  return {
    home,
    env,
    url,
    xm,
    guestConfig(name, extra = '') {
      const path = join(home, `${name}.cfg`);
      writeFileSync(
        path,
        [`name = "${name}"`, 'memory = 128', `kernel = "${join(CACHE, 'vmlinux')}"`, `ramdisk = "${join(CACHE, 'initramfs.cpio.gz')}"`, 'extra = "console=ttyS0 panic=0 quiet"', extra, ''].join('\n'),
      );
      return path;
    },
    async stop() {
      // Domains outlive xend by design: destroy them through it first.
      try {
        const client = await connectUnix(join(home, 'run/xend.sock'), xendMethods);
        for (const d of await client.call('domain.list')) if (d.domid && d.domid > 0) await client.call('domain.destroy', { ref: d.domid }).catch(() => null);
        await client.close();
      } catch {
        // xend already gone
      }
      xend.kill('SIGTERM');
      await new Promise((r) => (xend.exitCode !== null ? r(null) : xend.once('exit', r)));
      stopXenstored(home);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags this sandboxed machine needs. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Save a screenshot as a test artifact (tests/e2e/artifacts is git-ignored). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Wait, bounded, until `check` holds (for hooks, where expect.poll is not available). */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
