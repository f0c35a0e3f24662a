// The `dom0` launcher where the desktop app is not installed: under Xvfb it starts the user's
// xend in web mode and opens the manager in Debian's Chromium as an app window; the token never
// shows in any /proc/*/cmdline; a second launch reuses the running xend; after xend is killed -9
// (stale pid file and socket left behind) the next launch starts a new one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stopXenstored } from '../integration/helpers/engine.js';
import { CHROMIUM, ROOT, saveScreenshot } from './helpers/web-engine.js';

const LAUNCHER = join(ROOT, 'out/engine/cli/dom0.js');
const home = mkdtempSync('/tmp/d0l-');
const profile = mkdtempSync('/tmp/d0l-profile-');
let xvfb: ChildProcess;
let env: NodeJS.ProcessEnv;
let webPort: number;
let cdpPort: number;
let browser: Browser | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs the launcher to its end (it returns once the browser has read the page it was given). */
async function launch(): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [LAUNCHER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}

const xendPid = () => Number(readFileSync(join(home, 'run/xend.pid'), 'utf8').split(' ')[0]);

/** Every process's command line we can read. */
function commandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      // gone, or not ours to read
    }
  }
  return lines;
}

/** The manager page the launcher opened, once Chromium shows it. */
async function managerPage(): Promise<Page> {
  let page: Page | undefined;
  await expect
    .poll(async () => {
      browser ??= await chromium.connectOverCDP(`http://127.0.0.1:${cdpPort}`).catch(() => undefined);
      page = browser?.contexts().flatMap((c) => c.pages()).find((p) => p.url().startsWith(`http://127.0.0.1:${webPort}/`));
      return page !== undefined;
    }, { timeout: 60_000, interval: 250 })
    .toBe(true);
  return page!;
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'out/renderer/index.html'))) throw new Error('out/renderer is missing: run npm run build');
  // Xvfb picks a free display and writes its number to fd 3 once it accepts clients.
  xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const display = await new Promise<string>((resolve, reject) => {
    (xvfb.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (d: string) => resolve(`:${d.trim()}`));
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  webPort = await freePort();
  cdpPort = await freePort();
  env = {
    ...process.env,
    DISPLAY: display,
    DOM0_HOME: home,
    DOM0_ACCEL: 'tcg',
    DOM0_WEB: `127.0.0.1:${webPort}`,
    DOM0_ELECTRON_APP: '/nonexistent',
    // Debian's Chromium as the app window; the debugging port lets the test look at the page. As
    // root, Chromium needs --no-sandbox.
    DOM0_BROWSER: `${CHROMIUM} --no-sandbox --user-data-dir=${profile} --remote-debugging-port=${cdpPort} --no-first-run --window-size=1280,800`,
  };
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  // The launcher leaves Chromium and xend running, as a user's would: stop both here.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(profile)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  try {
    process.kill(xendPid(), 'SIGTERM');
  } catch {
    // not running
  }
  stopXenstored(home);
  xvfb?.kill();
  rmSync(profile, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('the dom0 launcher without the desktop app', () => {
  test('starts xend in web mode and opens the manager in a Chromium app window, the token on no command line', async () => {
    const result = await launch();
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`Dom0 is open in ${CHROMIUM} (xend serves http://127.0.0.1:${webPort}/; 'xend stop' stops it, domains keep running).\n`);
    expect(result.code).toBe(0);
    const page = await managerPage();
    await expect.poll(() => page.getByRole('row', { name: 'Domain-0', exact: true }).textContent(), { timeout: 30_000 }).toContain('Running');
    await saveScreenshot(page, 'launcher');
    const token = readFileSync(join(home, 'config/web-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(16);
    // Chromium, its renderers, xend and xenstored all run now: none shows the token.
    const lines = commandLines();
    expect(lines.some((l) => l.includes(profile))).toBe(true);
    expect(lines.filter((l) => l.includes(token))).toEqual([]);
    // The forwarding page is gone once read; the token left the address bar.
    expect(readdirSync(join(home, 'run')).filter((f) => f.startsWith('open-'))).toEqual([]);
    expect(page.url()).not.toContain('token=');
  });

  test('a second launch reuses the running xend', async () => {
    const pid = xendPid();
    const result = await launch();
    expect(result.code).toBe(0);
    expect(xendPid()).toBe(pid);
    await expect.poll(() => browser!.contexts().flatMap((c) => c.pages()).filter((p) => p.url().startsWith(`http://127.0.0.1:${webPort}/`)).length, { timeout: 60_000 }).toBe(2);
  });

  test("after xend is killed -9 (its pid file and socket left behind) the next launch starts a new one", async () => {
    const old = xendPid();
    process.kill(old, 'SIGKILL');
    // Gone, or a zombie until PID 1 reaps it (slowly, on these machines).
    await expect.poll(() => existsSync(`/proc/${old}/stat`) && !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${old}/stat`, 'utf8')), { timeout: 10_000 }).toBe(false);
    expect(existsSync(join(home, 'run/xend.sock'))).toBe(true);
    const result = await launch();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(xendPid()).not.toBe(old);
    await expect.poll(() => browser!.contexts().flatMap((c) => c.pages()).filter((p) => p.url().startsWith(`http://127.0.0.1:${webPort}/`)).length, { timeout: 60_000 }).toBe(3);
  });
});
