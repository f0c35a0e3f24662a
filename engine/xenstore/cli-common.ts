// What every xenstore-* command shares: Xen-style option parsing and usage errors, finding the
// daemon for this state dir (DOM0_HOME honoured), and Xen's way of reporting failures
// (`<prog>: could not ...` on stderr, exit status 1).
//
// Dom0 adds one option to Xen's: `--domid N` makes the command act as domain N instead of dom0,
// so permissions can be tried from the command line as a guest would meet them.

import { Buffer } from 'node:buffer';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePaths } from '../common/paths.js';
import { XenstoreClient } from './client.js';
import { ERRNO_TEXT, XenstoreConnectError, XenstoreDisconnectedError, XenstoreError } from './errors.js';

export interface CliSpec {
  name: string;
  /** After the program name, e.g. `[-p] key [...]`. */
  usage: string;
  /** What the command does, for --help. */
  description: string;
  /** Single-letter flags without a value, e.g. 'p'. */
  flags?: string;
  /** Single-letter options taking a value, e.g. 'n'. */
  valueOptions?: string;
  minArgs?: number;
  maxArgs?: number;
}

export interface CliArgs {
  flags: Set<string>;
  values: Map<string, string>;
  args: string[];
}

export interface CliContext {
  client: XenstoreClient;
  args: CliArgs;
  /** Buffered stdout; written out when the command returns (as Xen's tools do). */
  out: string[];
  /** Prints `<prog>: message` on stderr. */
  warn(message: string): void;
}

export class UsageError extends Error {}

export function parseCliArgs(spec: CliSpec, argv: readonly string[]): CliArgs & { domid?: number; help: boolean } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const args: string[] = [];
  let domid: number | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (a === '--domid' || a.startsWith('--domid=')) {
      const v = a === '--domid' ? argv[++i] : a.slice('--domid='.length);
      if (v === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(v)) throw new UsageError('--domid needs a domain id');
      domid = Number(v);
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && args.length === 0) {
      for (let j = 1; j < a.length; j++) {
        const letter = a[j] as string;
        if (spec.valueOptions?.includes(letter)) {
          const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
          if (v === undefined) throw new UsageError(`option -${letter} needs a value`);
          values.set(letter, v);
          break;
        }
        if (!spec.flags?.includes(letter)) throw new UsageError(`unknown option -${letter}`);
        flags.add(letter);
      }
      continue;
    }
    args.push(a);
  }
  if (!help) {
    if (args.length < (spec.minArgs ?? 0)) throw new UsageError('missing argument');
    if (spec.maxArgs !== undefined && args.length > spec.maxArgs) throw new UsageError('too many arguments');
  }
  return { flags, values, args, domid, help };
}

/** strerror()-style text for what went wrong. */
export function describeError(err: unknown): string {
  if (err instanceof XenstoreError) return ERRNO_TEXT[err.errno];
  return err instanceof Error ? err.message : String(err);
}

/** Xen's sanitise_value(): printable ASCII as is, `\\`, `\t`, `\n`, `\r`, other bytes `\ooo`. */
export function sanitiseValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x5c) out += String.fromCharCode(byte);
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function daemonEntry(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'xenstored.js');
}

/** Runs a command: parses argv, connects, calls `main`, prints its output, sets the exit status. */
export async function runCli(spec: CliSpec, main: (ctx: CliContext) => Promise<number>): Promise<void> {
  const warn = (message: string) => process.stderr.write(`${spec.name}: ${message}\n`);
  const usage = `Usage: ${spec.name} [-h] ${spec.usage}`;
  // `xenstore-ls | head` closes our stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  let parsed;
  try {
    parsed = parseCliArgs(spec, process.argv.slice(2));
  } catch (err) {
    warn(`${(err as Error).message}\n${usage}`);
    process.exitCode = 1;
    return;
  }
  if (parsed.help) {
    process.stdout.write(`${usage}\n${spec.description}\n\n  --domid N   act as domain N instead of dom0 (Dom0 extension)\n`);
    return;
  }
  const paths = resolvePaths();
  const socket = join(paths.runtimeDir, 'xenstored.sock');
  let client: XenstoreClient;
  try {
    client = await XenstoreClient.connect(socket, { asDomid: parsed.domid });
  } catch (err) {
    if (err instanceof XenstoreConnectError && err.kind === 'not-running') {
      warn(`xenstored is not running for ${paths.runtimeDir}; start it with: node ${daemonEntry()}${process.env.DOM0_HOME ? ` (with the same DOM0_HOME)` : ''}`);
    } else {
      warn(err instanceof XenstoreError ? `--domid ${parsed.domid}: ${err.message}` : describeError(err));
    }
    process.exitCode = 1;
    return;
  }
  const out: string[] = [];
  try {
    process.exitCode = await main({ client, args: parsed, out, warn });
  } catch (err) {
    if (err instanceof UsageError) warn(`${err.message}\n${usage}`);
    else warn(err instanceof XenstoreDisconnectedError ? `lost the connection to xenstored: ${err.message}` : describeError(err));
    process.exitCode = 1;
  } finally {
    if (out.length > 0) process.stdout.write(out.join(''));
    await client.close();
  }
}
