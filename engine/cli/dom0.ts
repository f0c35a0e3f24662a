#!/usr/bin/env node
// `dom0`: what the desktop entry runs. Opens the Electron app where it is installed; otherwise
// starts (or reuses) this user's xend in web mode and opens the manager in an app window.
//
// The web token never goes on a command line (other users can read /proc/*/cmdline): the browser
// is given a 0600 page in the user's 0700 runtime dir that forwards to the tokened URL, and the
// page is removed once the browser has read it.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolvePaths } from '../common/paths.js';
import { packageInfo } from '../common/package-info.js';
import { findQemuSystem, isProcessAlive } from '../qemu/index.js';
import { parseListen } from '../xend/web.js';

const USAGE = `Usage: dom0 [--web HOST:PORT]
Open Dom0, the virtual machine manager. The desktop app opens where it is installed; otherwise
your xend is started in web mode (or the running one reused) and the manager opens in an app
window: chromium --app, else your default browser (xdg-open). Closing the window leaves xend and
the domains running ('xend stop' stops xend).
  --web HOST:PORT  where xend serves web mode (default: $DOM0_WEB, else 127.0.0.1:8800)
  --version        print the version
Environment: DOM0_ELECTRON_APP (the desktop app, default /opt/Dom0/dom0-desktop),
DOM0_BROWSER (the browser command, e.g. "chromium --incognito"; it gets --app=<page>),
DOM0_HOME (the state dir, as for xend and xm).`;

const ELECTRON_APP = '/opt/Dom0/dom0-desktop';
const CHROMIUMS = ['chromium', 'chromium-browser', 'google-chrome'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && executable(join(dir, name))) return join(dir, name);
  return undefined;
}

/** The installed xend, from package.json's bin map (so it follows however the bins are built). */
function xendEntry(): string {
  const { root } = packageInfo();
  const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
  return join(root, bin.xend!);
}

function runningXendPid(runtimeDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(runtimeDir, 'xend.pid'), 'utf8').split(' ')[0]);
    return Number.isInteger(pid) && isProcessAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the GUI is served at `base` (xend in web mode). */
async function servesGui(base: string): Promise<boolean> {
  try {
    const res = await fetch(base, { signal: AbortSignal.timeout(3000) });
    return res.ok && (res.headers.get('content-type') ?? '').startsWith('text/html');
  } catch {
    return false;
  }
}

/** Opens `page` (a file) in an app window; returns what was used. */
function openWindow(page: string): string {
  const url = pathToFileURL(page).href;
  const custom = process.env.DOM0_BROWSER?.trim().split(/\s+/).filter(Boolean);
  const chromium = custom?.[0] ? custom : CHROMIUMS.map(onPath).filter((p): p is string => !!p).slice(0, 1);
  const [cmd, ...args] = chromium.length > 0 ? [...chromium, `--app=${url}`] : ['xdg-open', url];
  const child = spawn(cmd!, args, { detached: true, stdio: 'ignore' });
  child.on('error', (err) => {
    console.error(`dom0: cannot run ${cmd}: ${err.message}; install chromium or set DOM0_BROWSER`);
    process.exitCode = 1;
  });
  child.unref();
  return cmd!;
}

/** Waits (at most `ms`) until the page has been read, then removes it. */
async function removeOnceRead(page: string, ms: number): Promise<void> {
  const written = statSync(page).atimeMs;
  const deadline = Date.now() + ms;
  // The page's atime moves when the browser reads it (relatime updates a first read after a write).
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      if (statSync(page).atimeMs > written) break;
    } catch {
      return;
    }
  }
  // A moment for the browser to finish reading what it opened.
  await new Promise((r) => setTimeout(r, 500));
  try {
    unlinkSync(page);
  } catch {
    // already gone
  }
}

async function main(args: string[]): Promise<number> {
  let listen = process.env.DOM0_WEB || '127.0.0.1:8800';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      return 0;
    } else if (arg === '--version' || arg === '-V') {
      console.log(`dom0 ${packageInfo().version}`);
      return 0;
    } else if (arg === '--web' && args[i + 1]) listen = args[++i]!;
    else if (arg.startsWith('--web=')) listen = arg.slice('--web='.length);
    else {
      console.error(`dom0: unknown argument '${arg}'\n${USAGE}`);
      return 2;
    }
  }
  const app = process.env.DOM0_ELECTRON_APP || ELECTRON_APP;
  if (executable(app)) {
    spawn(app, [], { detached: true, stdio: 'ignore' }).unref();
    return 0;
  }
  findQemuSystem(); // says what to install when QEMU is missing
  const { host, port } = parseListen(listen);
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  const paths = resolvePaths();
  const pid = runningXendPid(paths.runtimeDir);
  if (pid === undefined) {
    // A pid file or socket left by a crashed xend is stale: xend start recovers both.
    const started = spawnSync(process.execPath, [xendEntry(), 'start', '--web', listen], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (started.status !== 0) {
      console.error(`dom0: xend did not start (exit ${started.status ?? started.signal}); see ${join(paths.logDir, 'xend.log')}`);
      return 1;
    }
  }
  if (!(await servesGui(base))) {
    console.error(
      pid === undefined
        ? `dom0: xend started but does not serve the GUI at ${base}; see ${join(paths.logDir, 'xend.log')}`
        : `dom0: your xend (pid ${pid}) runs without web mode on ${listen}: restart it with 'xend restart --web ${listen}' (domains keep running), then run dom0 again`,
    );
    return 1;
  }
  const token = readFileSync(join(paths.configDir, 'web-token'), 'utf8').trim();
  mkdirSync(paths.runtimeDir, { recursive: true, mode: 0o700 });
  const page = join(paths.runtimeDir, `open-${randomBytes(8).toString('hex')}.html`);
  const target = JSON.stringify(`${base}#token=${encodeURIComponent(token)}`).replace(/</g, '\\u003c');
  writeFileSync(page, `<!doctype html><meta charset="utf-8"><title>Dom0</title><script>location.replace(${target});</script>\n`, { mode: 0o600, flag: 'wx' });
  const used = openWindow(page);
  console.log(`Dom0 is open in ${used} (xend serves ${base}; 'xend stop' stops it, domains keep running).`);
  await removeOnceRead(page, 60_000);
  return Number(process.exitCode ?? 0);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`dom0: ${err.message}`);
    process.exit(1);
  },
);
