// A real xend process for integration tests (optionally inside a network namespace), and xm run
// as a user runs it (execFile, never a shell). Each instance has its own DOM0_HOME under /tmp.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GUEST_INITRD, GUEST_KERNEL, requireGuest, stopXenstored } from './engine.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../../..');
export const XM = join(root, 'out/engine/cli/xm.js');
export const XEND = join(root, 'out/engine/cli/xend.js');

export interface XmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class XendProcess {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  #child: ChildProcess | undefined;
  #stderr = '';

  private constructor(home: string) {
    this.home = home;
    this.env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
  }

  /** Start xend in the foreground (inside `netns` when given); resolves once it serves. */
  static async start(opts: { netns?: string; prefix?: string } = {}): Promise<XendProcess> {
    requireGuest();
    if (!existsSync(XEND)) throw new Error('build the engine first: npm run build:engine');
    const x = new XendProcess(mkdtempSync(opts.prefix ?? '/tmp/d0s-'));
    const [cmd, args] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, XEND]] : [process.execPath, [XEND]];
    const child = spawn(cmd, args, { env: x.env, stdio: ['ignore', 'ignore', 'pipe'] });
    x.#child = child;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (x.#stderr += d));
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (x.#stderr.includes('listening on')) {
          child.stderr!.off('data', onData);
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`xend exited (${code}): ${x.#stderr}`)));
    });
    return x;
  }

  get log(): string {
    return this.#stderr;
  }

  async xm(...args: string[]): Promise<XmResult> {
    try {
      const { stdout, stderr } = await run(process.execPath, [XM, ...args], { env: this.env, cwd: this.home });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  /** xm that must succeed: its stdout. */
  async xmOk(...args: string[]): Promise<string> {
    const r = await this.xm(...args);
    if (r.code !== 0) throw new Error(`xm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** A config file for the test guest with extra lines. */
  guestCfg(name: string, extra: string[] = []): string {
    const path = join(this.home, `${name}.cfg`);
    writeFileSync(
      path,
      [`name = "${name}"`, 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, 'extra = "console=ttyS0 panic=0 quiet"', ...extra, ''].join('\n'),
    );
    return path;
  }

  runtimeDir(domain: string): string {
    return join(this.home, 'run/domains', domain);
  }

  /** Destroy the named domains, stop xend and its xenstored, remove the home. */
  async stop(domains: string[] = []): Promise<void> {
    for (const d of domains) await this.xm('destroy', d).catch(() => undefined);
    const child = this.#child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    stopXenstored(this.home);
    rmSync(this.home, { recursive: true, force: true });
  }
}
