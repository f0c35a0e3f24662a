// SAN storage: an iSCSI target (tgtd on 127.0.0.1, started here) as a pool whose LUNs are volumes,
// a guest whose disk line names a LUN (QEMU's own initiator: no host kernel iSCSI), clear errors
// for a wrong portal, an unknown IQN and a refused login, and live migration between two xends
// that share the LUN, without copying storage.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GUEST_INITRD, GUEST_KERNEL, READY, requireGuest, stopXenstored } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';
import { Tgtd } from './helpers/tgtd.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const XM = join(root, 'out/engine/cli/xm.js');
const XEND = join(root, 'out/engine/cli/xend.js');
const TOKEN = 'san-test-token-abcdefghijklmnop';
const IQN = 'iqn.2026-12.org.dom0.test:san1';
const CHAP_IQN = 'iqn.2026-12.org.dom0.test:locked';

interface Host {
  home: string;
  env: NodeJS.ProcessEnv;
  xend?: ChildProcess;
}

let tgtd: Tgtd;
let dir: string;
let a: Host;
let b: Host;
let relocationPort: number;
const consoles: SerialConsole[] = [];

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
  const home = mkdtempSync('/tmp/d0i-');
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

/** Bytes of the LUN's backing file on the target's side: what the SAN really holds. */
function lunBytes(file: string, offset: number, length: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

async function serialOf(host: Host, domain: string): Promise<SerialConsole> {
  const c = await SerialConsole.attach(join(host.home, 'run/domains', domain));
  consoles.push(c);
  return c;
}

beforeAll(async () => {
  requireGuest();
  dir = mkdtempSync('/tmp/d0san-');
  writeFileSync(join(dir, 'lun1.img'), '');
  truncateSync(join(dir, 'lun1.img'), 64 * 1024 * 1024);
  writeFileSync(join(dir, 'locked.img'), '');
  truncateSync(join(dir, 'locked.img'), 16 * 1024 * 1024);
  tgtd = await Tgtd.start();
  await tgtd.addTarget(1, IQN, [join(dir, 'lun1.img')]);
  await tgtd.addTarget(2, CHAP_IQN, [join(dir, 'locked.img')], { chap: { user: 'dom0', password: 'not-given-to-us-1' } });
  relocationPort = await freePort();
  a = makeHost(`(xend-relocation-token '${TOKEN}')\n`);
  b = makeHost(
    [
      '(xend-relocation-server yes)',
      `(xend-relocation-port ${relocationPort})`,
      "(xend-relocation-address '127.0.0.1')",
      "(xend-relocation-hosts-allow '^localhost$ ^127\\.0\\.0\\.1$')",
      `(xend-relocation-token '${TOKEN}')`,
      '',
    ].join('\n'),
  );
  await startXend(a);
  await startXend(b);
}, 60_000);

afterAll(async () => {
  for (const c of consoles) c.close();
  for (const host of [a, b]) {
    if (!host) continue;
    await xm(host, 'destroy', 'sang').catch(() => undefined);
    host.xend?.kill('SIGTERM');
    if (host.xend && host.xend.exitCode === null) await new Promise((r) => host.xend!.once('exit', r));
    stopXenstored(host.home);
    rmSync(host.home, { recursive: true, force: true });
  }
  await tgtd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('iSCSI pools and LUN disks', () => {
  test('the target as a pool: its LUN is a volume with its size and address', async () => {
    const def = await xm(a, 'pool-define-iscsi', 'san', tgtd.portal, IQN);
    expect(def.stderr).toBe('');
    expect(def.stdout).toBe(`Pool san defined at iscsi://${tgtd.portal}/${IQN} (1 LUN)\n`);
    const pools = (await xm(a, 'pool-list')).stdout;
    expect(pools).toMatch(new RegExp(`^san\\s+iscsi\\s+64\\.00 MiB.*iscsi://${tgtd.portal.replace(/\./g, '\\.')}/`, 'm'));
    const vols = (await xm(a, 'vol-list', 'san')).stdout;
    expect(vols).toMatch(new RegExp(`^lun1\\s+raw\\s+64\\.00 MiB.*iscsi://${tgtd.portal.replace(/\./g, '\\.')}/${IQN.replace(/\./g, '\\.')}/1$`, 'm'));
    const create = await xm(a, 'vol-create', 'san', 'new', '1G');
    expect(create.code).toBe(1);
    expect(create.stderr).toMatch(/cannot create volumes in iSCSI pool 'san': its volumes are the target's LUNs/);
  });

  test('wrong portal, unknown IQN and a refused login say which', async () => {
    const wrongPortal = await xm(a, 'pool-define-iscsi', 'bad1', '127.0.0.1:1', IQN);
    expect(wrongPortal.code).toBe(1);
    expect(wrongPortal.stderr).toMatch(/^Error: no iSCSI target answers at 127\.0\.0\.1:1 \(connection refused\): check the portal's address and port/m);
    const unknown = await xm(a, 'pool-define-iscsi', 'bad2', tgtd.portal, 'iqn.2026-12.org.dom0.test:nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`Error: the portal ${tgtd.portal} offers no target iqn.2026-12.org.dom0.test:nosuch to this host: check the IQN`);
    const refused = await xm(a, 'pool-define-iscsi', 'bad3', tgtd.portal, CHAP_IQN);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused the login \(Authentication failure/);
    const notIqn = await xm(a, 'pool-define-iscsi', 'bad4', tgtd.portal, 'storage1');
    expect(notIqn.stderr).toMatch(/'storage1' is not an iSCSI target name; write it as iqn\.YYYY-MM/);
    // None of them was kept.
    expect((await xm(a, 'pool-list')).stdout).not.toMatch(/^bad/m);
    // A disk line naming an unknown target: the domain does not start, and QEMU's initiator says why.
    writeFileSync(join(a.home, 'bad.cfg'), guestCfg('sanbad', `iscsi://${tgtd.portal}/iqn.2026-12.org.dom0.test:nosuch/1`));
    const start = await xm(a, 'create', 'bad.cfg');
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/Target not found/);
    expect((await xm(a, 'list')).stdout).not.toMatch(/^sanbad /m);
  });

  test('a guest writes to its LUN; live migration to another xend keeps the disk, without copying it', async () => {
    const lun = `iscsi://${tgtd.portal}/${IQN}/1`;
    writeFileSync(join(a.home, 'sang.cfg'), guestCfg('sang', lun));
    const create = await xm(a, 'create', 'sang.cfg');
    expect(create.stderr).toBe('');
    expect((await xm(a, 'vol-list', 'san')).stdout).toMatch(/^lun1 .* sang /m);
    const ca = await serialOf(a, 'sang');
    await ca.waitFor(READY, { timeoutMs: 120_000 });
    await ca.run("printf 'dom0-san-written-on-a' | dd of=/dev/vda bs=512 conv=sync 2>/dev/null; sync");
    // On the target's disk, not just in the guest's cache.
    expect(lunBytes(join(dir, 'lun1.img'), 0, 21)).toBe('dom0-san-written-on-a');

    const mig = await xm(a, 'migrate', '--live', 'sang', `127.0.0.1:${relocationPort}`);
    expect(mig.stderr).toBe('');
    expect(mig.stdout).toMatch(/^Domain sang migrated to 127\.0\.0\.1:\d+ \(id \d+ there\): downtime \d+ ms/m);
    expect((await xm(a, 'list')).stdout).not.toMatch(/^sang /m);
    expect((await xm(b, 'list', 'sang')).stdout).toMatch(/^sang\s+\d+/m);

    const cb = await serialOf(b, 'sang');
    // The same guest (its shell keeps running) reads what it wrote before, through b's initiator.
    expect(await cb.run('dd if=/dev/vda bs=21 count=1 iflag=direct 2>/dev/null; echo')).toContain('dom0-san-written-on-a');
    await cb.run("printf 'dom0-san-written-on-b' | dd of=/dev/vda bs=512 seek=8 conv=sync 2>/dev/null; sync");
    expect(lunBytes(join(dir, 'lun1.img'), 4096, 21)).toBe('dom0-san-written-on-b');
  }, 300_000);
});

function guestCfg(name: string, lun: string): string {
  return [
    `name = "${name}"`,
    'memory = 128',
    `kernel = "${GUEST_KERNEL}"`,
    `ramdisk = "${GUEST_INITRD}"`,
    'extra = "console=ttyS0 panic=0 quiet"',
    `disk = ['${lun},xvda,w']`,
    '',
  ].join('\n');
}
