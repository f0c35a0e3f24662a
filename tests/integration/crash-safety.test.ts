// xend killed with SIGKILL at aimed points of create, shutdown, save, rename and snapshot (the
// windows between steps, found by watching the files each step writes), then started again.
// After every restart: each domain is listed once with its id, name and uuid; every QEMU the
// engine started belongs to a listed domain; no temp file is left; xenstore lists exactly the
// running domains under their names. The guests are booted once and shared between the kills.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolvePaths } from '../../engine/common/paths.js';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { xendMethods, type DomainRow } from '../../engine/protocol/common/xend-api.js';
import { qemuProcessesUnder } from '../../engine/qemu/index.js';
import { XenstoreClient, xenstoreLocations } from '../../engine/xenstore/index.js';
import { GUEST_INITRD, GUEST_KERNEL, requireGuest, stopXenstored } from './helpers/engine.js';
import { XEND, XM } from './helpers/xend-process.js';

const run = promisify(execFile);
const home = mkdtempSync('/tmp/d0c-');
const paths = resolvePaths({ DOM0_HOME: home });
const env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
const counts = { kills: 0, checks: 0, domainsChecked: 0, qemusChecked: 0 };
let xend: ChildProcess | undefined;

async function startXend(): Promise<void> {
  const child = spawn(process.execPath, [XEND], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`xend exited (${code}): ${stderr}`)));
  });
  xend = child;
}

async function killXend(): Promise<void> {
  const child = xend!;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  counts.kills++;
}

async function xm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run(process.execPath, [XM, ...args], { env, cwd: home })) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts `xm args` and kills xend the moment `aim()` holds (polled: the window is a file appearing or going). */
async function killWhen(aim: () => boolean, ...args: string[]): Promise<void> {
  let finished = false;
  const command = xm(...args).finally(() => (finished = true));
  while (!aim()) {
    if (finished) throw new Error(`xm ${args.join(' ')} ended before its aimed point: ${JSON.stringify(await command)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  await killXend();
  await command;
}

function cfg(name: string, extra: string[] = []): string {
  const path = join(home, `${name}.cfg`);
  writeFileSync(path, [`name = "${name}"`, 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, 'extra = "console=ttyS0 panic=0 quiet"', ...extra, ''].join('\n'));
  return path;
}

function tempFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...tempFiles(full));
    else if (name.endsWith('.tmp')) out.push(full);
  }
  return out;
}

/** The invariants, after a restart. Returns the running rows. */
async function check(label: string): Promise<DomainRow[]> {
  await startXend();
  const client = await connectUnix(join(paths.runtimeDir, 'xend.sock'), xendMethods);
  let rows: DomainRow[];
  try {
    rows = (await client.call('domain.list')).filter((r) => r.name !== 'Domain-0');
  } finally {
    client.close();
  }
  const names = rows.map((r) => r.name);
  expect(new Set(names).size, `${label}: listed twice in ${names.join(' ')}`).toBe(names.length);
  const running = rows.filter((r) => r.domid !== undefined);
  for (const r of running) {
    expect(r.domid, label).toBeGreaterThan(0);
    expect(r.uuid, label).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  }
  expect(new Set(running.map((r) => r.uuid)).size, `${label}: a uuid twice`).toBe(running.length);
  const qemus = qemuProcessesUnder(join(paths.runtimeDir, 'domains'));
  expect(qemus.length, `${label}: ${qemus.length} QEMUs for ${running.length} running domains`).toBe(running.length);
  expect(tempFiles(home), label).toEqual([]);
  const xs = await XenstoreClient.connect(xenstoreLocations(paths).socket);
  try {
    const ids = (await xs.directory('/local/domain')).filter((id) => id !== '0').map(Number).sort((a, b) => a - b);
    expect(ids, `${label}: xenstore domains`).toEqual(running.map((r) => r.domid!).sort((a, b) => a - b));
    for (const r of running) expect(await xs.read(`/local/domain/${r.domid}/name`), label).toBe(r.name);
  } finally {
    await xs.close();
  }
  counts.checks++;
  counts.domainsChecked += rows.length;
  counts.qemusChecked += qemus.length;
  return running;
}

const domainDir = (name: string) => join(paths.runtimeDir, 'domains', name);

beforeAll(async () => {
  requireGuest();
  if (!existsSync(XEND)) throw new Error('build the engine first: npm run build:engine');
  await startXend();
});

afterAll(async () => {
  if (xend && xend.exitCode === null) {
    for (const d of ['a', 'b', 'b2', 'c']) await xm('destroy', d);
    xend.kill('SIGTERM');
  }
  for (const { pid } of qemuProcessesUnder(join(paths.runtimeDir, 'domains'))) process.kill(pid, 'SIGKILL');
  stopXenstored(home);
  rmSync(home, { recursive: true, force: true });
  console.log(`crash-safety: ${counts.kills} SIGKILLs of xend, ${counts.checks} restarts checked, ${counts.domainsChecked} domain rows and ${counts.qemusChecked} QEMUs verified`);
});

describe('xend killed mid-operation', () => {
  test('create: killed after QEMU started but before the domain was recorded, and after', async () => {
    // Between the launch (QEMU writes its pidfile) and domain.json.
    await killWhen(() => existsSync(join(domainDir('a'), 'qemu.pid')) && !existsSync(join(domainDir('a'), 'domain.json')), 'create', cfg('a'));
    let running = await check('create before record');
    expect(running.map((r) => r.name)).not.toContain('a');
    // The name is free again, and a create gives exactly one QEMU (with a qcow2 disk, for the snapshot below).
    expect((await xm('vol-create', 'default', 'a.qcow2', '16M')).code).toBe(0);
    expect((await xm('create', cfg('a', [`disk = ['tap:qcow2:${paths.imagesDir}/a.qcow2,xvda,w']`]))).code).toBe(0);
    // Just after the record.
    await killWhen(() => existsSync(join(domainDir('b'), 'domain.json')), 'create', cfg('b'));
    running = await check('create after record');
    expect(running.map((r) => r.name).sort()).toEqual(['a', 'b']);
  });

  test('rename: killed between moving the runtime dir and rewriting the record', async () => {
    await killWhen(() => existsSync(domainDir('b2')), 'rename', 'b', 'b2');
    const running = await check('rename');
    expect(running.map((r) => r.name).sort()).toEqual(['a', 'b2']);
  });

  test('snapshot and save: killed while their files are being written', async () => {
    const snapshots = join(paths.dataDir, 'snapshots');
    // The snapshot record is the last step: killed as soon as it (or its temp file) appears.
    await killWhen(() => tempFiles(snapshots).length > 0 || existsSync(join(snapshots, 'a.json')), 'snapshot-create', 'a', 's1');
    await check('snapshot');
    const saveDir = join(paths.dataDir, 'save');
    mkdirSync(saveDir, { recursive: true });
    expect((await xm('create', cfg('c'))).code).toBe(0);
    await killWhen(() => tempFiles(saveDir).length > 0, 'save', 'c', join(saveDir, 'c.save'));
    await check('save');
  });

  test('shutdown: killed while the guest powers off', async () => {
    // xm shutdown returns once the power button is pressed: xend dies while the guest goes down.
    expect((await xm('shutdown', 'b2')).code).toBe(0);
    await killXend();
    // Whether the guest is down yet depends on how far it had booted (acpid answers the button);
    // either way the invariants hold: listed once if running, no QEMU without a domain.
    await check('shutdown');
  });
});
