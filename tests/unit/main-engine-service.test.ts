// The engine service against an object-literal starter (VS Code's ptyHost test pattern): no
// processes, each fake "xend" is driven by hand: print a line, write stderr, exit.

import { describe, expect, it, vi } from 'vitest';
import type { EngineExit, EngineProcess, EngineStarter } from '../../main/engine-starter.js';
import {
  EngineAlreadyRunningError,
  EngineGaveUpError,
  EngineService,
  EngineStartError,
  EngineStoppedError,
  EngineTimeoutError,
  parseAlreadyRunning,
  parseWebUiLine,
  type EngineServiceOptions,
} from '../../main/engine-service.js';

interface FakeXend extends EngineProcess {
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  signals: string[];
  /** Exit on SIGTERM/SIGKILL by itself (like the real xend). */
  exitOnSignal: boolean;
  stdout(line: string): void;
  stderr(line: string): void;
  exit(exit?: Partial<EngineExit>): void;
  serve(port: number): void;
}

function fakeXend(args: readonly string[], env: NodeJS.ProcessEnv, pid: number): FakeXend {
  const out: ((line: string) => void)[] = [];
  const err: ((line: string) => void)[] = [];
  const exits: ((exit: EngineExit) => void)[] = [];
  let exited = false;
  const proc: FakeXend = {
    args,
    env,
    pid,
    signals: [],
    exitOnSignal: true,
    onStdoutLine: (cb) => void out.push(cb),
    onStderrLine: (cb) => void err.push(cb),
    onExit: (cb) => void exits.push(cb),
    kill(signal = 'SIGTERM') {
      proc.signals.push(signal);
      if (proc.exitOnSignal || signal === 'SIGKILL') queueMicrotask(() => proc.exit({ code: null, signal }));
    },
    stdout: (line) => out.forEach((cb) => cb(line)),
    stderr: (line) => err.forEach((cb) => cb(line)),
    exit({ code = 1, signal = null } = {}) {
      if (exited) return;
      exited = true;
      exits.forEach((cb) => cb({ code, signal }));
    },
    serve: (port) => proc.stdout(`Web UI: http://127.0.0.1:${port}/#token=tok-${port}`),
  };
  return proc;
}

/** The starter is an object literal; it keeps the fakes it made for the test to drive. */
function setup(opts: Partial<EngineServiceOptions> = {}) {
  const procs: FakeXend[] = [];
  const starter: EngineStarter = {
    kind: 'fake',
    start: (args, env) => {
      const p = fakeXend(args, env, 1000 + procs.length);
      procs.push(p);
      return p;
    },
  };
  const failures: Error[] = [];
  const service = new EngineService({
    starter,
    env: { DOM0_HOME: '/tmp/dom0-test-home' },
    restartDelayMs: 0,
    onFailed: (e) => failures.push(e),
    ...opts,
  });
  return { service, procs, failures };
}

const endpointOf = (port: number) => ({ url: `ws://127.0.0.1:${port}/engine`, token: `tok-${port}` });

describe("xend's Web UI line", () => {
  it('gives the WebSocket endpoint and the token of the fragment', () => {
    expect(parseWebUiLine('Web UI: http://127.0.0.1:40123/#token=AbC-_9')).toEqual({ url: 'ws://127.0.0.1:40123/engine', token: 'AbC-_9' });
    expect(parseWebUiLine('Web UI: https://[::1]:8443/#token=t')).toEqual({ url: 'wss://[::1]:8443/engine', token: 't' });
  });

  it('ignores other lines and URLs without a token or a port', () => {
    for (const line of ['', 'xend started', 'Web UI: http://127.0.0.1:40123/', 'Web UI: http://127.0.0.1/#token=x', 'Web UI: ftp://h:1/#token=x', 'Web UI: nonsense', ' Web UI: http://127.0.0.1:1/#token=x']) {
      expect(parseWebUiLine(line), line).toBeUndefined();
    }
  });

  it("reads the pid out of xend's already-running refusal", () => {
    expect(parseAlreadyRunning('Error: xend is already running for this state dir (pid 4242); stop it first, or set DOM0_HOME')).toBe(4242);
    expect(parseAlreadyRunning('Error: something else')).toBeUndefined();
  });
});

describe('the engine service', () => {
  it('starts xend once with --web on a free loopback port and resolves its endpoint', async () => {
    const { service, procs } = setup();
    const first = service.getEndpoint();
    const second = service.getEndpoint();
    expect(procs).toHaveLength(1);
    expect(procs[0]!.args).toEqual(['--web', '127.0.0.1:0', '--web-allow-origin', 'file://']);
    expect(procs[0]!.env).toEqual({ DOM0_HOME: '/tmp/dom0-test-home' });
    expect(service.state).toBe('starting');
    procs[0]!.stdout('some log line');
    procs[0]!.serve(40123);
    await expect(first).resolves.toEqual(endpointOf(40123));
    await expect(second).resolves.toEqual(endpointOf(40123));
    expect(service.state).toBe('ready');
    expect(service.pid).toBe(1000);
  });

  it('restarts a crashed xend and hands out the new endpoint', async () => {
    const { service, procs } = setup();
    const first = service.getEndpoint();
    procs[0]!.serve(40001);
    await first;
    procs[0]!.stderr('something broke');
    procs[0]!.exit({ code: 1 });
    expect(service.state).toBe('starting');
    const again = service.getEndpoint();
    await vi.waitFor(() => expect(procs).toHaveLength(2));
    procs[1]!.serve(40002);
    await expect(again).resolves.toEqual(endpointOf(40002));
    expect(service.restartCount).toBe(1);
  });

  it('restarts an xend that exits before it serves', async () => {
    const { service, procs } = setup();
    const endpoint = service.getEndpoint();
    procs[0]!.exit({ code: 1 });
    await vi.waitFor(() => expect(procs).toHaveLength(2));
    procs[1]!.serve(40003);
    await expect(endpoint).resolves.toEqual(endpointOf(40003));
  });

  it('gives up on the 6th crash, with the last stderr, and starts no 7th xend', async () => {
    const { service, procs, failures } = setup();
    service.getEndpoint().catch(() => undefined);
    for (let i = 0; i < 6; i++) {
      await vi.waitFor(() => expect(procs).toHaveLength(i + 1));
      procs[i]!.serve(41000 + i);
      procs[i]!.stderr(`crash number ${i + 1}`);
      procs[i]!.exit({ code: null, signal: 'SIGSEGV' });
    }
    expect(service.state).toBe('failed');
    const error = await service.getEndpoint().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineGaveUpError);
    expect((error as Error).message).toMatch(/stopped unexpectedly 6 times/);
    expect((error as Error).message).toMatch(/killed by SIGSEGV/);
    expect((error as EngineGaveUpError).stderr).toBe('crash number 6');
    expect(service.restartCount).toBe(5);
    expect(failures).toEqual([error]);
    await new Promise((r) => setTimeout(r, 20));
    expect(procs).toHaveLength(6);
  });

  it('fails with a clear error carrying stderr when xend never serves, and kills it', async () => {
    const { service, procs } = setup({ readyTimeoutMs: 30 });
    const endpoint = service.getEndpoint();
    procs[0]!.exitOnSignal = false;
    procs[0]!.stderr('probing the accelerator...');
    const error = await endpoint.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineTimeoutError);
    expect(error).toBeInstanceOf(EngineStartError);
    expect((error as Error).message).toMatch(/did not start serving within 0.03 s \(no "Web UI:" line\)/);
    expect((error as Error).message).toMatch(/probing the accelerator/);
    expect(procs[0]!.signals).toEqual(['SIGKILL']);
    // Its exit after the kill is expected, not a crash to restart.
    await new Promise((r) => setTimeout(r, 10));
    expect(procs).toHaveLength(1);
    expect(service.state).toBe('failed');
  });

  describe('when another xend runs for the state dir', () => {
    const refusal = 'Error: xend is already running for this state dir (pid 4242); stop it first, or set DOM0_HOME to use another state dir';

    it('asks, stops the other one, and starts its own (not counted as a crash)', async () => {
      const asked: number[] = [];
      const stopped: number[] = [];
      const { service, procs } = setup({
        onAlreadyRunning: async (pid) => (asked.push(pid), true),
        stopForeignXend: async (pid) => void stopped.push(pid),
      });
      const endpoint = service.getEndpoint();
      procs[0]!.stderr(refusal);
      procs[0]!.exit({ code: 1 });
      await vi.waitFor(() => expect(procs).toHaveLength(2));
      expect(asked).toEqual([4242]);
      expect(stopped).toEqual([4242]);
      procs[1]!.serve(40100);
      await expect(endpoint).resolves.toEqual(endpointOf(40100));
      expect(service.restartCount).toBe(0);
    });

    it('checks the pid file first and asks before starting anything', async () => {
      const order: string[] = [];
      const { service, procs } = setup({
        runningXendPid: () => 777,
        onAlreadyRunning: async (pid) => (order.push(`ask ${pid}`), true),
        stopForeignXend: async (pid) => void order.push(`stop ${pid}`),
      });
      const endpoint = service.getEndpoint();
      expect(procs).toHaveLength(0);
      await vi.waitFor(() => expect(procs).toHaveLength(1));
      expect(order).toEqual(['ask 777', 'stop 777']);
      procs[0]!.serve(40101);
      await expect(endpoint).resolves.toEqual(endpointOf(40101));
    });

    it('leaves it alone when the user says no, and says so', async () => {
      const stopForeignXend = vi.fn(async () => undefined);
      const { service, procs, failures } = setup({ onAlreadyRunning: async () => false, stopForeignXend });
      const endpoint = service.getEndpoint();
      procs[0]!.stderr(refusal);
      procs[0]!.exit({ code: 1 });
      const error = await endpoint.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineAlreadyRunningError);
      expect((error as EngineAlreadyRunningError).pid).toBe(4242);
      expect((error as Error).message).toMatch(/xend stop/);
      expect(stopForeignXend).not.toHaveBeenCalled();
      expect(procs).toHaveLength(1);
      expect(failures).toHaveLength(1);
    });

    it('reports an xend that will not stop', async () => {
      const { service, procs } = setup({
        onAlreadyRunning: async () => true,
        stopForeignXend: async (pid) => {
          throw new Error(`xend (pid ${pid}) did not stop within 30 s`);
        },
      });
      const endpoint = service.getEndpoint();
      procs[0]!.stderr(refusal);
      procs[0]!.exit({ code: 1 });
      await expect(endpoint).rejects.toThrow(/could not stop the xend that runs already \(pid 4242\): xend \(pid 4242\) did not stop within 30 s/);
    });
  });

  describe('stop', () => {
    it('sends SIGTERM, waits for the exit, and never restarts', async () => {
      const shutdownAllDomains = vi.fn(async () => []);
      const { service, procs } = setup({ shutdownAllDomains });
      const endpoint = service.getEndpoint();
      procs[0]!.serve(40200);
      await endpoint;
      await service.stop({ shutdownDomains: false });
      expect(procs[0]!.signals).toEqual(['SIGTERM']);
      expect(shutdownAllDomains).not.toHaveBeenCalled();
      expect(service.state).toBe('stopped');
      await new Promise((r) => setTimeout(r, 10));
      expect(procs).toHaveLength(1);
      await expect(service.getEndpoint()).rejects.toBeInstanceOf(EngineStoppedError);
    });

    it('shuts the domains down first when asked, and still stops xend when that fails', async () => {
      const order: string[] = [];
      const { service, procs } = setup({
        shutdownAllDomains: async () => {
          order.push(`shutdownAll while xend ${procs[0]!.signals.length ? 'stopping' : 'serving'}`);
          throw new Error('web1 did not shut down within 60 s');
        },
      });
      const endpoint = service.getEndpoint();
      procs[0]!.serve(40201);
      await endpoint;
      await expect(service.stop({ shutdownDomains: true })).rejects.toThrow(/web1 did not shut down/);
      expect(order).toEqual(['shutdownAll while xend serving']);
      expect(procs[0]!.signals).toEqual(['SIGTERM']);
      expect(service.state).toBe('stopped');
    });

    it('kills an xend that ignores SIGTERM', async () => {
      const { service, procs } = setup({ stopTimeoutMs: 20 });
      const endpoint = service.getEndpoint();
      procs[0]!.serve(40202);
      await endpoint;
      procs[0]!.exitOnSignal = false;
      await service.stop({ shutdownDomains: false });
      expect(procs[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    });

    it('fails a pending getEndpoint when stopped while starting', async () => {
      const { service, procs } = setup();
      const endpoint = service.getEndpoint();
      const stopping = service.stop({ shutdownDomains: false });
      await expect(endpoint).rejects.toBeInstanceOf(EngineStoppedError);
      await stopping;
      expect(procs[0]!.signals).toEqual(['SIGTERM']);
      expect(service.stop({ shutdownDomains: false })).toBe(stopping);
    });
  });
});
