#!/usr/bin/env node
// `xend`: the Dom0 daemon, as Xen's `xend start|stop|status|restart`.
//   xend            run in the foreground (log lines also on stderr)
//   xend start      start in the background and return once it serves
//   xend stop       stop it (domains keep running)
//   xend status     exit 0 if running
// DOM0_HOME selects the state dir.

import { spawn } from 'node:child_process';
import { fchmodSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePaths } from '../common/paths.js';
import { packageVersion } from '../common/package-info.js';
import { isProcessAlive } from '../qemu/index.js';
import { xendSocketPath } from '../xend/socket-path.js';
import { connectUnix } from '../protocol/node/unix-client.js';
import { xendMethods } from '../protocol/common/xend-api.js';

const USAGE = `Usage: xend [start|stop|status|restart] [--web HOST:PORT]
  (no argument)  run in the foreground
  --web HOST:PORT  also serve the GUI in a browser (web mode) and print "Web UI: <url>";
                 the URL includes the login token (kept in <config>/web-token)
  --web-allow-origin ORIGIN  let pages from ORIGIN open the engine WebSocket too (they still
                 need the token); the desktop app passes its file:// origin
  start          run in the background; returns when xend serves
  stop           stop xend; running domains keep running
  status         exit status 0 if xend runs, 3 if not
  --version      print the version
  restart        stop, then start
The state dir is chosen by DOM0_HOME (default: per-user XDG dirs).`;

const paths = resolvePaths();
// Everything xend and its QEMUs create (disk images, definitions, saves, backups, logs) is the
// user's alone: a definition can hold a vncpasswd, an image the guest's secrets.
process.umask(0o077);

function runningPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(paths.runtimeDir, 'xend.pid'), 'utf8').split(' ')[0]);
    return Number.isInteger(pid) && isProcessAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitServing(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const client = await connectUnix(xendSocketPath(paths), xendMethods, { connectTimeoutMs: 1000 });
      await client.call('host.info');
      client.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

async function foreground(web: string | undefined, webOrigins: string[]): Promise<void> {
  // The daemon's module graph is loaded only to run it: `xend status` and `stop` stay light.
  const { startXend } = await import('../xend/daemon.js');
  const handle = await startXend({ paths, echoLog: true, web, webOrigins });
  if (handle.webUrl) console.log(`Web UI: ${handle.webUrl}`);
  const stop = () => {
    void handle.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function background(web: string | undefined): Promise<number> {
  const pid = runningPid();
  if (pid) {
    console.error(`Error: xend is already running (pid ${pid}).`);
    return 1;
  }
  // It holds what xend prints, the web URL with its token among it: the owner's eyes only.
  const out = openSync(join(paths.dataDir, 'xend.stderr'), 'a', 0o600);
  fchmodSync(out, 0o600);
  const child = spawn(process.execPath, [process.argv[1]!, ...(web ? ['--web', web] : [])], { detached: true, stdio: ['ignore', out, out], env: process.env });
  child.unref();
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const ok = await Promise.race([waitServing(60_000), exited.then(() => false)]);
  if (!ok) {
    console.error(`Error: xend did not start; see ${join(paths.logDir, 'xend.log')} and ${join(paths.dataDir, 'xend.stderr')}`);
    return 1;
  }
  console.log(`xend started (pid ${child.pid})`);
  if (web) {
    // The child printed its URL (with the real port) to its output file.
    const lines = readFileSync(join(paths.dataDir, 'xend.stderr'), 'utf8').split('\n');
    const url = lines.reverse().find((l) => l.startsWith('Web UI: '));
    if (url) console.log(url);
  }
  return 0;
}

async function stop(): Promise<number> {
  const pid = runningPid();
  if (!pid) {
    console.error('xend is not running.');
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && isProcessAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isProcessAlive(pid)) {
    console.error(`Error: xend (pid ${pid}) did not stop within 30 s.`);
    return 1;
  }
  return 0;
}

async function main(args: string[]): Promise<number> {
  let web: string | undefined;
  const origins: string[] = [];
  const argv: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--web') {
      web = args[++i];
      if (!web) throw new Error('--web needs HOST:PORT, e.g. --web 127.0.0.1:8800');
    } else if (args[i]!.startsWith('--web=')) web = args[i]!.slice('--web='.length);
    else if (args[i] === '--web-allow-origin') {
      const origin = args[++i];
      if (!origin) throw new Error('--web-allow-origin needs an origin, e.g. file://');
      origins.push(origin);
    }
    else argv.push(args[i]!);
  }
  const cmd = argv[0];
  const { mkdirSync } = await import('node:fs');
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  switch (cmd) {
    case undefined:
      await foreground(web, origins);
      return -1;
    case 'start':
      return background(web);
    case 'stop':
      return stop();
    case 'restart': {
      const code = await stop();
      return code === 0 ? background(web) : code;
    }
    case 'status': {
      const pid = runningPid();
      console.log(pid ? `xend is running (pid ${pid})` : 'xend is not running');
      return pid ? 0 : 3;
    }
    case '-V':
    case '--version':
      console.log(`xend (Dom0) ${packageVersion()}`);
      return 0;
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`Error: unknown command '${cmd}'\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    console.error(`Error: ${err.message}`);
    process.exit(1);
  },
);
