// Keeps one xend running for the desktop app and tells the window where it serves.
//
//   idle ──getEndpoint()──▶ starting ──"Web UI: …" line──▶ ready
//                              ▲  │ exits early / crashes          │ crashes
//                              │  ▼                                ▼
//                              └── restart (at most maxRestarts) ◀─┘ ── then ──▶ failed
//   any ──stop()──▶ stopping ──▶ stopped
//
// xend runs in the foreground with `--web 127.0.0.1:0` and prints `Web UI: http://127.0.0.1:<port>/#token=<token>`
// once it serves; the renderer's endpoint is the WebSocket on that port. Each restart picks a new
// port (the token is kept in <config>/web-token), so the renderer asks again after a disconnect.
//
// If another xend already runs for the state dir (started by `xend start` or a previous app that
// crashed), we cannot attach the window to it: it may not serve web mode at all, and when it does,
// its port is written nowhere. So we ask the user, and on yes stop it with SIGTERM (xend lets go of
// its domains on SIGTERM: they keep running and our xend re-adopts them) and start our own.
//
// Errors (all carry xend's last stderr lines in `stderr` where there was a process):
//   EngineError
//   ├── EngineStartError          xend exited before it served, or could not be replaced
//   │   └── EngineTimeoutError    no "Web UI:" line within readyTimeoutMs (60 s)
//   ├── EngineAlreadyRunningError another xend runs and the user chose not to replace it
//   ├── EngineGaveUpError         xend stopped unexpectedly more than maxRestarts times
//   └── EngineStoppedError        stop() was called (the app is quitting)

import type { EngineEndpoint } from '../preload/api.js';
import type { EngineExit, EngineProcess, EngineStarter } from './engine-starter.js';

export type { EngineEndpoint };

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    message: string,
    /** xend's last stderr lines, oldest first. */
    readonly stderr: string = '',
    options?: ErrorOptions,
  ) {
    super(stderr ? `${message}\n--- xend's last output ---\n${stderr}` : message, options);
  }
}
export class EngineStartError extends EngineError {
  override name = 'EngineStartError';
}
export class EngineTimeoutError extends EngineStartError {
  override name = 'EngineTimeoutError';
}
export class EngineAlreadyRunningError extends EngineError {
  override name = 'EngineAlreadyRunningError';
  constructor(readonly pid: number) {
    super(
      `xend (pid ${pid}) is already running for this state dir and was left alone; ` +
        `stop it ('xend stop': domains keep running) and open Dom0 again, or set DOM0_HOME to use another state dir`,
    );
  }
}
export class EngineGaveUpError extends EngineError {
  override name = 'EngineGaveUpError';
}
export class EngineStoppedError extends EngineError {
  override name = 'EngineStoppedError';
}

export type EngineState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface EngineServiceOptions {
  starter: EngineStarter;
  /** xend's environment (DOM0_HOME and the XDG variables choose its state dir). */
  env: NodeJS.ProcessEnv;
  /** Web mode's listen address: loopback, any free port. */
  listen?: string;
  readyTimeoutMs?: number;
  maxRestarts?: number;
  restartDelayMs?: number;
  /** How long a stopping xend gets after SIGTERM before SIGKILL (domains survive both). */
  stopTimeoutMs?: number;
  /** The pid of a live xend for this state dir that is not ours, from its pid file. */
  runningXendPid?: () => number | undefined;
  /** Asks whether to replace the xend that runs already (true: stop it and start ours). */
  onAlreadyRunning?: (pid: number) => Promise<boolean>;
  /** Stops a foreign xend and resolves once it is gone. */
  stopForeignXend?: (pid: number) => Promise<void>;
  /** `domain.shutdownAll {wait: true}` over the unix socket, for stop({shutdownDomains: true}). */
  shutdownAllDomains?: () => Promise<unknown>;
  /** Called each time the service enters 'failed'. */
  onFailed?: (error: EngineError) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const DEFAULTS = {
  listen: '127.0.0.1:0',
  readyTimeoutMs: 60_000,
  maxRestarts: 5,
  restartDelayMs: 500,
  stopTimeoutMs: 15_000,
};
/** Lines of xend's stderr kept for error messages. */
const STDERR_TAIL_LINES = 30;
/** xend's refusal (engine/xend/lock.ts): `xend is already running for this state dir (pid N); …`. */
const ALREADY_RUNNING = /xend is already running for this state dir \(pid (\d+)\)/;

/** The endpoint in xend's `Web UI: http://host:port/#token=…` line, or undefined for other lines. */
export function parseWebUiLine(line: string): EngineEndpoint | undefined {
  const m = /^Web UI: (\S+)\s*$/.exec(line);
  if (!m) return undefined;
  let page: URL;
  try {
    page = new URL(m[1]!);
  } catch {
    return undefined;
  }
  if (page.protocol !== 'http:' && page.protocol !== 'https:') return undefined;
  const token = new URLSearchParams(page.hash.slice(1)).get('token');
  if (!token || !page.port) return undefined;
  return { url: `${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}/engine`, token };
}

/** The pid named by xend's "already running" refusal on stderr. */
export function parseAlreadyRunning(stderr: string): number | undefined {
  const m = ALREADY_RUNNING.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting when it fails: that is not an unhandled rejection.
  promise.catch(() => undefined);
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve: (v) => {
      d.settled = true;
      resolve(v);
    },
    reject: (e) => {
      d.settled = true;
      reject(e);
    },
  };
  return d;
}

interface Run {
  proc: EngineProcess;
  ready: boolean;
  /** Set when we end it ourselves (stop, timeout): its exit is not a crash. */
  expected: boolean;
  stderr: string[];
  exited: Promise<EngineExit>;
}

export class EngineService {
  readonly #opts: EngineServiceOptions & typeof DEFAULTS;
  #state: EngineState = 'idle';
  #restarts = 0;
  #endpoint = deferred<EngineEndpoint>();
  #run: Run | undefined;
  #readyTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(opts: EngineServiceOptions) {
    this.#opts = { ...DEFAULTS, ...opts };
  }

  get state(): EngineState {
    return this.#state;
  }

  /** Restarts after crashes so far (never reset: a crash loop must end). */
  get restartCount(): number {
    return this.#restarts;
  }

  /** The pid of our xend while it runs. */
  get pid(): number | undefined {
    return this.#run?.proc.pid;
  }

  /** Starts xend on first use; resolves once it serves (again, after a restart). */
  getEndpoint(): Promise<EngineEndpoint> {
    if (this.#state === 'idle') this.#begin();
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new EngineStoppedError('the Dom0 engine is stopping: the app is quitting'));
    }
    return this.#endpoint.promise;
  }

  /**
   * Stops our xend (SIGTERM: it lets go of the domains, which keep running). With
   * shutdownDomains, first shuts every running domain down and waits (domain.shutdownAll); its
   * failure is thrown after xend is stopped. No restart happens from here on.
   */
  stop({ shutdownDomains }: { shutdownDomains: boolean }): Promise<void> {
    this.#stopping ??= this.#stop(shutdownDomains);
    return this.#stopping;
  }

  async #stop(shutdownDomains: boolean): Promise<void> {
    this.#state = 'stopping';
    clearTimeout(this.#restartTimer);
    let shutdownError: unknown;
    if (shutdownDomains && this.#opts.shutdownAllDomains) {
      try {
        await this.#opts.shutdownAllDomains();
      } catch (error) {
        shutdownError = error;
      }
    }
    if (!this.#endpoint.settled) this.#endpoint.reject(new EngineStoppedError('the Dom0 engine was stopped before it served'));
    const run = this.#run;
    if (run) {
      run.expected = true;
      clearTimeout(this.#readyTimer);
      await this.#terminate(run);
    }
    this.#state = 'stopped';
    if (shutdownError !== undefined) throw shutdownError;
  }

  async #terminate(run: Run): Promise<void> {
    run.proc.kill('SIGTERM');
    if (await within(run.exited, this.#opts.stopTimeoutMs)) return;
    this.#log('warn', `xend (pid ${run.proc.pid}) did not stop within ${this.#opts.stopTimeoutMs} ms; killing it (domains keep running)`);
    run.proc.kill('SIGKILL');
    await within(run.exited, 5_000);
  }

  #begin(): void {
    this.#state = 'starting';
    const foreign = this.#opts.runningXendPid?.();
    if (foreign !== undefined) void this.#alreadyRunning(foreign, '');
    else this.#spawn();
  }

  #spawn(): void {
    // The app's page is file:// (or the dev server): xend must accept that origin, token still required.
    const args = ['--web', this.#opts.listen, '--web-allow-origin', 'file://', ...(process.env.ELECTRON_RENDERER_URL ? ['--web-allow-origin', new URL(process.env.ELECTRON_RENDERER_URL).origin] : [])];
    const proc = this.#opts.starter.start(args, this.#opts.env);
    let resolveExit!: (exit: EngineExit) => void;
    const run: Run = { proc, ready: false, expected: false, stderr: [], exited: new Promise((r) => (resolveExit = r)) };
    this.#run = run;
    this.#log('info', `starting xend (${this.#opts.starter.kind}) ${args.join(' ')}`);
    this.#readyTimer = setTimeout(() => {
      if (this.#run !== run || run.ready) return;
      run.expected = true;
      proc.kill('SIGKILL');
      this.#fail(
        new EngineTimeoutError(`xend did not start serving within ${this.#opts.readyTimeoutMs / 1000} s (no "Web UI:" line)`, tail(run)),
      );
    }, this.#opts.readyTimeoutMs);
    proc.onStdoutLine((line) => {
      const endpoint = parseWebUiLine(line);
      if (!endpoint || run.ready || this.#run !== run || this.#state !== 'starting') return;
      run.ready = true;
      clearTimeout(this.#readyTimer);
      this.#state = 'ready';
      this.#log('info', `xend (pid ${proc.pid}) serves ${endpoint.url}`);
      this.#endpoint.resolve(endpoint);
    });
    proc.onStderrLine((line) => {
      run.stderr.push(line);
      if (run.stderr.length > STDERR_TAIL_LINES) run.stderr.shift();
    });
    proc.onExit((exit) => {
      resolveExit(exit);
      this.#onExit(run, exit);
    });
  }

  #onExit(run: Run, exit: EngineExit): void {
    if (this.#run !== run) return;
    this.#run = undefined;
    clearTimeout(this.#readyTimer);
    if (run.expected || this.#state === 'stopping' || this.#state === 'stopped') return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? 'unknown'}`;
    if (!run.ready) {
      const foreign = parseAlreadyRunning(run.stderr.join('\n'));
      if (foreign !== undefined) {
        void this.#alreadyRunning(foreign, tail(run));
        return;
      }
      this.#crashed(new EngineStartError(`xend ${how} before it served`, tail(run)));
      return;
    }
    this.#crashed(new EngineError(`xend ${how} unexpectedly`, tail(run)));
  }

  #crashed(error: EngineError): void {
    if (this.#restarts >= this.#opts.maxRestarts) {
      this.#fail(
        new EngineGaveUpError(
          `xend stopped unexpectedly ${this.#restarts + 1} times; Dom0 does not restart it again. ` +
            `Domains keep running; see xend.log (xm log) and restart Dom0. Last failure: ${error.message.split('\n')[0]}`,
          error.stderr,
          { cause: error },
        ),
      );
      return;
    }
    this.#restarts++;
    this.#log('warn', `${error.message.split('\n')[0]}; restarting it (${this.#restarts} of ${this.#opts.maxRestarts})`);
    this.#state = 'starting';
    if (this.#endpoint.settled) this.#endpoint = deferred();
    this.#restartTimer = setTimeout(() => {
      if (this.#state === 'starting') this.#spawn();
    }, this.#opts.restartDelayMs);
  }

  async #alreadyRunning(pid: number, stderr: string): Promise<void> {
    this.#log('warn', `xend (pid ${pid}) already runs for this state dir`);
    let replace = false;
    try {
      replace = (await this.#opts.onAlreadyRunning?.(pid)) ?? false;
    } catch (error) {
      this.#log('error', `asking whether to replace xend failed: ${String(error)}`);
    }
    if (this.#state !== 'starting') return;
    if (!replace) return this.#fail(new EngineAlreadyRunningError(pid));
    try {
      if (!this.#opts.stopForeignXend) throw new Error('no way to stop it was given');
      await this.#opts.stopForeignXend(pid);
    } catch (error) {
      return this.#fail(new EngineStartError(`could not stop the xend that runs already (pid ${pid}): ${(error as Error).message}`, stderr));
    }
    if (this.#state !== 'starting') return;
    this.#log('info', `stopped xend (pid ${pid}); starting ours`);
    this.#spawn();
  }

  #fail(error: EngineError): void {
    this.#state = 'failed';
    this.#log('error', error.message);
    if (this.#endpoint.settled) this.#endpoint = deferred();
    this.#endpoint.reject(error);
    this.#opts.onFailed?.(error);
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#opts.log?.(level, message);
  }
}

function tail(run: Run): string {
  return run.stderr.join('\n');
}

/** True if `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
