// How xend is launched, behind one small interface (VS Code's ptyHost starter pattern): the
// service above does not care whether xend runs as an Electron utility process or as a plain Node
// child. Both launch the same entry, out/engine/cli/xend.js, with the same arguments.
//
// This file imports nothing from Electron at runtime: the utility-process starter is handed
// `utilityProcess.fork` by main/index.ts, so the file loads (and is tested) under plain Node.

import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ForkOptions } from 'electron';

export interface EngineExit {
  /** Exit code; null when killed by a signal (Node fork) or unknown. */
  readonly code: number | null;
  /** The signal that ended it (Node fork only: a utility process reports just a code). */
  readonly signal: string | null;
}

export interface EngineProcess {
  /** Undefined until the OS process exists (a utility process gets its pid asynchronously). */
  readonly pid: number | undefined;
  onStdoutLine(cb: (line: string) => void): void;
  onStderrLine(cb: (line: string) => void): void;
  /** Called once, after the output lines that could still be read. */
  onExit(cb: (exit: EngineExit) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export interface EngineStarter {
  /** For logs: 'utility-process' or 'node-fork'. */
  readonly kind: string;
  start(args: readonly string[], env: NodeJS.ProcessEnv): EngineProcess;
}

/** What the utility-process starter needs of Electron's UtilityProcess. */
export interface UtilityChild {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  once(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export type UtilityFork = (modulePath: string, args: string[], options: ForkOptions) => UtilityChild;

/**
 * xend as an Electron utility process (`utilityProcess.fork`): Chromium launches and reaps it,
 * and it dies with the app. Its `process.argv` is `[execPath, modulePath, ...args]` as under Node.
 */
export function utilityProcessStarter(modulePath: string, fork: UtilityFork): EngineStarter {
  return {
    kind: 'utility-process',
    start(args, env) {
      // ELECTRON_RUN_AS_NODE in a utility process's environment would make the Electron binary
      // start as plain Node before it reads --type=utility: never pass it on.
      const childEnv = stringEnv(env);
      delete childEnv.ELECTRON_RUN_AS_NODE;
      const child = fork(modulePath, [...args], { serviceName: 'xend', stdio: 'pipe', env: childEnv });
      const out = new Lines();
      const err = new Lines();
      attach(child.stdout, out);
      attach(child.stderr, err);
      const exits = new Listeners<EngineExit>();
      child.once('exit', (code) => {
        // Electron drops the stdio streams' listeners right after 'exit': read what is buffered.
        drain(child.stdout, out);
        drain(child.stderr, err);
        exits.emit({ code, signal: null });
      });
      return {
        get pid() {
          return child.pid;
        },
        onStdoutLine: (cb) => out.listen(cb),
        onStderrLine: (cb) => err.listen(cb),
        onExit: (cb) => exits.listen(cb),
        kill(signal = 'SIGTERM') {
          // UtilityProcess.kill() sends SIGTERM on POSIX; anything stronger goes by pid.
          if (signal === 'SIGTERM' || child.pid === undefined) child.kill();
          else killQuietly(child.pid, signal);
        },
      };
    },
  };
}

/**
 * xend as a plain child process of `execPath` (Node, or the Electron binary run as Node). Under
 * Electron, ELECTRON_RUN_AS_NODE=1 is set so that the binary runs the script; xend's own children
 * that re-run process.execPath (xenstored) inherit it and run as Node too.
 */
export function nodeForkStarter(modulePath: string, execPath: string = process.execPath): EngineStarter {
  return {
    kind: 'node-fork',
    start(args, env) {
      const childEnv = stringEnv(env);
      if (process.versions.electron !== undefined) childEnv.ELECTRON_RUN_AS_NODE = '1';
      const child = spawn(execPath, [modulePath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
      const out = new Lines();
      const err = new Lines();
      attach(child.stdout, out);
      attach(child.stderr, err);
      const exits = new Listeners<EngineExit>();
      let exited = false;
      const exit = (info: EngineExit) => {
        if (exited) return;
        exited = true;
        out.flush();
        err.flush();
        exits.emit(info);
      };
      // 'close' comes after stdout and stderr have ended, so no line is lost.
      child.once('close', (code, signal) => exit({ code, signal }));
      child.once('error', (error) => {
        if (child.pid !== undefined) return; // a failed kill(); 'close' still follows
        err.push(`cannot start ${execPath}: ${error.message}\n`);
        exit({ code: null, signal: null });
      });
      return {
        get pid() {
          return child.pid;
        },
        onStdoutLine: (cb) => out.listen(cb),
        onStderrLine: (cb) => err.listen(cb),
        onExit: (cb) => exits.listen(cb),
        kill(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
      };
    },
  };
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = String(value);
  return out;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

class Listeners<T> {
  readonly #cbs: ((value: T) => void)[] = [];
  listen(cb: (value: T) => void): void {
    this.#cbs.push(cb);
  }
  emit(value: T): void {
    for (const cb of [...this.#cbs]) cb(value);
  }
}

/** Splits a byte stream into lines (UTF-8, `\n` or `\r\n`); a last unterminated line is flushed. */
class Lines extends Listeners<string> {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  push(chunk: Buffer | string): void {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  flush(): void {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    if (rest !== '') this.emit(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }
}

function attach(stream: NodeJS.ReadableStream | Readable | null, lines: Lines): void {
  stream?.on('data', (chunk: Buffer | string) => lines.push(chunk));
  stream?.on('end', () => lines.flush());
}

function drain(stream: NodeJS.ReadableStream | null, lines: Lines): void {
  if (stream !== null) {
    let chunk: Buffer | string | null;
    while ((chunk = stream.read() as Buffer | string | null) !== null) lines.push(chunk);
  }
  lines.flush();
}
