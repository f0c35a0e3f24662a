// The xm commands of issue 9 against two real xend processes (separate DOM0_HOMEs, loopback):
// save/restore, snapshot-*, clone, backup/backup-restore, and `xm migrate --live` to the other
// xend's relocation service configured in xend.conf (token, hosts-allow).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GUEST_INITRD, GUEST_KERNEL, requireGuest, stopXenstored } from './helpers/engine.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const XM = join(root, 'out/engine/cli/xm.js');
const XEND = join(root, 'out/engine/cli/xend.js');
const TOKEN = 'xm-test-token-abcdefghijklmnop';

interface Host {
  home: string;
  env: NodeJS.ProcessEnv;
  xend?: ChildProcess;
}

let a: Host;
let b: Host;
let port: number;

async function xm(host: Host, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [XM, ...args], { env: host.env, cwd: host.home });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function startXend(host: Host): Promise<void> {
  const child = spawn(process.execPath, [XEND], { env: host.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (stderr.includes('listening on')) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`xend exited (${code}): ${stderr}`)));
  });
  host.xend = child;
}

function makeHost(conf: string): Host {
  const home = mkdtempSync('/tmp/d0x-');
  mkdirSync(join(home, 'config'), { recursive: true });
  writeFileSync(join(home, 'config', 'xend.conf'), conf);
  return { home, env: { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' } };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const p = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return p;
}

beforeAll(async () => {
  requireGuest();
  port = await freePort();
  a = makeHost(`(xend-relocation-token '${TOKEN}')\n`);
  b = makeHost(
    [
      '(xend-relocation-server yes)',
      `(xend-relocation-port ${port})`,
      "(xend-relocation-address '127.0.0.1')",
      "(xend-relocation-hosts-allow '^localhost$ ^127\\.0\\.0\\.1$')",
      `(xend-relocation-token '${TOKEN}')`,
      '',
    ].join('\n'),
  );
  await startXend(a);
  await startXend(b);
  writeFileSync(
    join(a.home, 'g.cfg'),
    [`name = "xg"`, 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, 'extra = "console=ttyS0 panic=0 quiet"', "vif = ['']", ''].join('\n'),
  );
});

afterAll(async () => {
  for (const host of [a, b]) {
    if (!host) continue;
    await xm(host, 'destroy', 'xg').catch(() => undefined);
    host.xend?.kill('SIGTERM');
    if (host.xend && host.xend.exitCode === null) await new Promise((r) => host.xend!.once('exit', r));
    stopXenstored(host.home);
    rmSync(host.home, { recursive: true, force: true });
  }
});

describe('xm save/restore/migrate against real xends', () => {
  test('xm save writes the file and removes the domain; xm restore brings it back', async () => {
    expect((await xm(a, 'create', 'g.cfg')).code).toBe(0);
    const save = await xm(a, 'save', 'xg', 'xg.save');
    expect(save.stderr).toBe('');
    expect(save.code).toBe(0);
    expect(existsSync(join(a.home, 'xg.save'))).toBe(true);
    expect((await xm(a, 'list')).stdout).not.toMatch(/^xg /m);
    expect((await xm(a, 'restore', '-p', 'xg.save')).code).toBe(0);
    expect((await xm(a, 'list', 'xg')).stdout).toMatch(/^xg\s+\d+\s+128\s+1\s+--p---/m);
    expect((await xm(a, 'unpause', 'xg')).code).toBe(0);
    const again = await xm(a, 'restore', 'xg.save');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^Error: .*already exists/m);
  });

  test('xm migrate --live moves it to the other xend; a raw disk snapshot is refused with a message', async () => {
    const r = await xm(a, 'migrate', '--live', '--downtime=300', 'xg', `127.0.0.1:${port}`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Domain xg migrated to 127\.0\.0\.1:\d+ \(id \d+ there\): downtime \d+ ms, total [\d.]+ s$/m);
    expect((await xm(a, 'list')).stdout).not.toMatch(/^xg /m);
    expect((await xm(b, 'list', 'xg')).stdout).toMatch(/^xg\s+\d+\s+128\s+1\s+[-r]b?/m);
    // Nobody listens there: the error says so, and xg keeps running on b.
    const back = await xm(b, 'migrate', 'xg', '127.0.0.1:1');
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/^Error: migration of 'xg' to 127\.0\.0\.1:1 failed: .*ECONNREFUSED.*the domain is still running here$/m);
    expect((await xm(b, 'list', 'xg')).stdout).toMatch(/^xg\s+\d+/m);
    const snap = await xm(b, 'snapshot-create', 'xg', 's1');
    expect(snap.code).toBe(1);
    expect(snap.stderr).toMatch(/no writable qcow2 disk/);
    expect((await xm(b, 'snapshot-list', 'xg')).stdout).toBe('Name  Creation Time (UTC)  State     Description\n');
  });
});
