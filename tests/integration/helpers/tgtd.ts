// A userspace iSCSI target (Debian's tgt) on 127.0.0.1 for SAN tests: its own control port and
// portal, so it never meets a system tgtd or another test's. Targets are plain files as LUNs.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const p = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return p;
}

export class Tgtd {
  readonly portal: string;
  readonly #control: number;
  readonly #child: ChildProcess;
  #log = '';

  private constructor(portal: string, control: number, child: ChildProcess) {
    this.portal = portal;
    this.#control = control;
    this.#child = child;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.#log += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.#log += d));
  }

  static async start(): Promise<Tgtd> {
    const port = await freePort();
    // tgtd's management socket is an abstract unix socket named after this number.
    const control = 1000 + Math.floor(Math.random() * 9000);
    const child = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const t = new Tgtd(`127.0.0.1:${port}`, control, child);
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`tgtd exited (${code}): ${t.#log}`))));
    // Ready when its management socket answers; bounded, and a tgtd that dies ends the wait at once.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await Promise.race([t.tgtadm('--op', 'show', '--mode', 'sys').then(() => true, () => false), exited]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`tgtd did not come up: ${t.#log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return t;
  }

  async tgtadm(...args: string[]): Promise<string> {
    const { stdout } = await run('tgtadm', ['-C', String(this.#control), '--lld', 'iscsi', ...args]);
    return stdout;
  }

  /** A target whose LUNs 1..n are the given files; open to 127.0.0.1 unless CHAP is asked for. */
  async addTarget(tid: number, iqn: string, files: string[], opts: { chap?: { user: string; password: string } } = {}): Promise<void> {
    await this.tgtadm('--op', 'new', '--mode', 'target', '--tid', String(tid), '-T', iqn);
    for (const [i, file] of files.entries()) {
      await this.tgtadm('--op', 'new', '--mode', 'logicalunit', '--tid', String(tid), '--lun', String(i + 1), '-b', file);
    }
    await this.tgtadm('--op', 'bind', '--mode', 'target', '--tid', String(tid), '-I', 'ALL');
    if (opts.chap) {
      await this.tgtadm('--op', 'new', '--mode', 'account', '--user', opts.chap.user, '--password', opts.chap.password);
      await this.tgtadm('--op', 'bind', '--mode', 'account', '--tid', String(tid), '--user', opts.chap.user);
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGKILL');
    await exited;
  }
}
