#!/usr/bin/env node
// `xenstored`: the registry daemon for this state dir, in the foreground, logging to stderr.
// SIGTERM / SIGINT: stop accepting, flush the journal, remove the socket, exit 0.

import { resolvePaths } from '../common/paths.js';
import { XenstoredRunningError, startXenstored, xenstoreLocations } from '../xenstore/index.js';
import type { LogLevel } from '../xenstore/index.js';

const USAGE = `Usage: xenstored [--help] [--compact-after-bytes N] [--compact-after-records N] [--max-outbound-bytes N]

Runs Dom0's registry (Xen's xenstored) in the foreground for the state dir chosen by DOM0_HOME
(default: the XDG dirs). It serves <runtime>/xenstored.sock (mode 0600) and keeps the registry
in <data>/xenstore.journal and <data>/xenstore.snapshot; every change is on disk before it is
acknowledged. Logs go to stderr. Stop it with SIGTERM.

  --compact-after-bytes N     snapshot the tree once the journal is over N bytes (default 4194304)
  --compact-after-records N   ... or over N records (default 20000)
  --max-outbound-bytes N      disconnect a client leaving more than N bytes unread (default 4194304)
`;

function log(level: LogLevel, message: string): void {
  process.stderr.write(`xenstored[${process.pid}]: ${level === 'info' ? '' : `${level}: `}${message}\n`);
}

function parse(argv: readonly string[]): Map<string, number> | 'help' {
  const opts = new Map<string, number>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') return 'help';
    const m = /^--(compact-after-bytes|compact-after-records|max-outbound-bytes)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    const v = m[2] ?? argv[++i];
    if (v === undefined || !/^[1-9][0-9]*$/.test(v)) throw new Error(`--${m[1]} needs a positive number`);
    opts.set(m[1] as string, Number(v));
  }
  return opts;
}

async function main(): Promise<number> {
  // The journal and snapshot hold every domain's keys: private, whatever the caller's umask.
  process.umask(0o077);
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`xenstored: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const paths = resolvePaths();
  let daemon;
  try {
    daemon = await startXenstored({
      dataDir: paths.dataDir,
      runtimeDir: paths.runtimeDir,
      journal: { compactAfterBytes: opts.get('compact-after-bytes'), compactAfterRecords: opts.get('compact-after-records') },
      maxOutboundBytes: opts.get('max-outbound-bytes'),
      log,
      onFatal: () => {
        process.exitCode = 1;
      },
    });
  } catch (err) {
    if (err instanceof XenstoredRunningError) process.stderr.write(`xenstored: ${err.message}\n`);
    else process.stderr.write(`xenstored: cannot start for ${xenstoreLocations(paths).journal}: ${(err as Error).message}\n`);
    return 1;
  }
  const stop = (signal: string) => {
    log('info', `${signal}: shutting down`);
    daemon.close().then(
      () => process.exit(process.exitCode ?? 0),
      (err: Error) => {
        log('error', `shutdown: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return 0;
}

const status = await main();
if (status !== 0) process.exitCode = status;
