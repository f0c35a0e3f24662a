// What a client of the engine may reach on the host. A remote (web-mode) client holds the token,
// which is full control of the engine but not of the host: every path it names lies inside the
// pools, the data dir or (browse-folders ...), symlinks resolved. Domain names never become paths
// outside <config>/domains, for any client. Connections that have not shown the token yet may
// send only a little, and only so many may wait. The page server never follows a link out of
// the renderer folder. A config value cannot smuggle a newline into a definition.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolvePaths, type Dom0Paths } from '../../engine/common/paths.js';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { connectWebSocket } from '../../engine/protocol/node/ws-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { startXend, xendSocketPath, type XendHandle } from '../../engine/xend/daemon.js';
import { GUEST_INITRD, GUEST_KERNEL, stopXenstored } from './helpers/engine.js';

let home: string;
let paths: Dom0Paths;
let xend: XendHandle;
let wsUrl: string;
let base: string;
let token: string;
let outside: string;
type Client = Awaited<ReturnType<typeof connectUnix<typeof xendMethods>>>;
let remote: Client;
let local: Client;

const cfg = (name: string, lines: string[] = []) =>
  [`name = "${name}"`, 'memory = 128', `kernel = "${GUEST_KERNEL}"`, `ramdisk = "${GUEST_INITRD}"`, ...lines, ''].join('\n');

beforeAll(async () => {
  home = mkdtempSync('/tmp/d0l-');
  outside = mkdtempSync('/tmp/d0l-outside-');
  writeFileSync(join(outside, 'victim.img'), 'precious');
  writeFileSync(join(outside, 'secret.txt'), 'not for the web');
  const renderer = join(home, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Dom0</title>');
  symlinkSync(join(outside, 'secret.txt'), join(renderer, 'leak.txt'));
  paths = resolvePaths({ DOM0_HOME: home });
  xend = await startXend({ paths, env: { ...process.env, DOM0_ACCEL: 'tcg' }, web: '127.0.0.1:0', rendererDir: renderer });
  const url = new URL(xend.webUrl!);
  base = `http://${url.host}`;
  wsUrl = `ws://${url.host}/engine`;
  token = url.hash.replace('#token=', '');
  remote = await connectWebSocket(wsUrl, token, xendMethods);
  local = await connectUnix(xendSocketPath(paths), xendMethods);
});

afterAll(async () => {
  remote?.close();
  local?.close();
  await xend?.stop();
  stopXenstored(home);
  rmSync(home, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const refused = (code: string, message: RegExp) => expect.objectContaining({ code, message: expect.stringMatching(message) });

describe('paths remote clients name', () => {
  const OUTSIDE = /is outside the folders remote clients may use/;

  test('define, create and update refuse disks and kernels outside the allowed folders; a local client may', async () => {
    const disk = `disk = ['file:${outside}/victim.img,xvda,w']`;
    await expect(remote.call('domain.define', { text: cfg('r1', [disk]), file: 'x.cfg' })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    await expect(remote.call('domain.create', { text: cfg('r1', [disk]), file: 'x.cfg', dryRun: false })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    // The guest kernel lives outside the data dir too: remote clients cannot boot it.
    await expect(remote.call('domain.define', { text: cfg('r2'), file: 'x.cfg' })).rejects.toEqual(refused('InvalidPath', /kernel .* is outside/));
    // Inside the data dir: allowed.
    mkdirSync(paths.imagesDir, { recursive: true });
    writeFileSync(join(paths.dataDir, 'vmlinux'), '');
    writeFileSync(join(paths.dataDir, 'initrd'), '');
    const inside = [`name = "r3"`, 'memory = 128', `kernel = "${paths.dataDir}/vmlinux"`, `ramdisk = "${paths.dataDir}/initrd"`, ''].join('\n');
    await expect(remote.call('domain.define', { text: inside, file: 'x.cfg' })).resolves.toMatchObject({ name: 'r3' });
    await expect(remote.call('domain.update', { name: 'r3', changes: { kernel: `${outside}/secret.txt` } })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    // A symlink inside the data dir does not lead out of it.
    symlinkSync(join(outside, 'victim.img'), join(paths.imagesDir, 'link.img'));
    await expect(remote.call('domain.update', { name: 'r3', changes: { kernel: join(paths.imagesDir, 'link.img') } })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    // The user at the unix socket acts as themselves.
    await expect(local.call('domain.define', { text: cfg('l1', [disk]), file: 'x.cfg' })).resolves.toMatchObject({ name: 'l1' });
  });

  test('delete keeps images outside the allowed folders, even those the domain names', async () => {
    await expect(remote.call('domain.delete', { name: 'l1', storage: [`${outside}/victim.img`], force: false })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    expect(readFileSync(join(outside, 'victim.img'), 'utf8')).toBe('precious');
    expect((await local.call('domain.list')).some((d) => d.name === 'l1')).toBe(true);
  });

  test('save, dump, backup, restore and install media: outside paths refused, existence not revealed', async () => {
    await expect(remote.call('domain.save', { ref: 'l1', path: `${outside}/l1.save`, keepRunning: false })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    await expect(remote.call('domain.dumpCore', { ref: 'l1', path: `${outside}/core` })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    await expect(remote.call('domain.backup', { domain: 'l1', dir: outside })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    await expect(remote.call('domain.restore', { path: `${outside}/victim.img`, paused: false })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    await expect(remote.call('domain.backupRestore', { path: `${outside}/victim.img` })).rejects.toEqual(refused('InvalidPath', OUTSIDE));
    const message = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => e.message);
    const exists = await message(remote.call('install.detect', { cdrom: `${outside}/secret.txt` }));
    const missing = await message(remote.call('install.detect', { cdrom: `${outside}/nothing.iso` }));
    expect(exists).toMatch(OUTSIDE);
    expect(missing.replace('nothing.iso', 'secret.txt')).toBe(exists);
    await expect(remote.call('install.create', { description: { name: 'r4', source: { kind: 'cdrom', path: `${outside}/secret.txt` }, disks: [], network: { kind: 'none' }, graphics: 'none' }, dryRun: true })).rejects.toEqual(
      refused('InvalidPath', OUTSIDE),
    );
    await expect(remote.call('files.list', { path: outside })).rejects.toEqual(refused('InvalidPath', /outside the folders that may be browsed/));
  });
});

describe('domain names never become other paths', () => {
  test('getConfig, start, delete, undefine and rename refuse names with ../, for every client', async () => {
    // A valid config one level above <config>/domains: what '../victim' would reach.
    writeFileSync(join(paths.configDir, 'victim.cfg'), cfg('victim'));
    for (const client of [local, remote]) {
      await expect(client.call('domain.getConfig', { name: '../victim' })).rejects.toEqual(refused('InvalidName', /'\.\.\/victim' is not a domain name/));
      await expect(client.call('domain.start', { name: '../victim' })).rejects.toEqual(refused('InvalidName', /not a domain name/));
      await expect(client.call('domain.delete', { name: '../victim', storage: [], force: false })).rejects.toEqual(refused('InvalidName', /not a domain name/));
      await expect(client.call('domain.undefine', { name: '../victim' })).rejects.toEqual(refused('InvalidName', /not a domain name/));
      await expect(client.call('domain.rename', { ref: 'r3', newName: '../../renamed' })).rejects.toEqual(refused('InvalidName', /not a domain name/));
    }
    expect(existsSync(join(paths.configDir, 'victim.cfg'))).toBe(true);
    expect(existsSync(join(home, 'renamed.cfg'))).toBe(false);
    expect((await local.call('domain.list')).map((d) => d.name)).toContain('r3');
  });
});

describe('config values', () => {
  test('domain.update refuses a newline in extra and leaves the definition as it was', async () => {
    const before = (await local.call('domain.getConfig', { name: 'r3' })).text;
    await expect(local.call('domain.update', { name: 'r3', changes: { extra: 'quiet\ninit=/bin/sh' } })).rejects.toEqual(
      refused('ConfigError', /extra must not contain a newline or other control character/),
    );
    expect((await local.call('domain.getConfig', { name: 'r3' })).text).toBe(before);
  });
});

describe('connections before the token', () => {
  /** A WebSocket without a token, as a browser opens it before sending {auth}. */
  function pendingSocket(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  test('one may not send much before authenticating: a large frame in progress is cut off', async () => {
    // A raw upgrade, then the start of a 3 MiB frame that never ends: the server must not hold it.
    const { host, port } = new URL(base);
    const socket = net.createConnection({ host: host.split(':')[0], port: Number(port) });
    const closedWithin = new Promise<number>((resolve) => {
      const started = Date.now();
      socket.once('close', () => resolve(Date.now() - started));
    });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /engine HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(3n * 1024n * 1024n, 2);
    socket.write(header); // mask key: the last 4 bytes (zeros)
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 16 && !socket.destroyed; i++) socket.write(chunk);
    // Well before the 10 s authentication timeout, which would close it anyway.
    const ms = await Promise.race([closedWithin, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5000))]);
    socket.destroy();
    expect(ms).toBeLessThan(5000);
  });

  test('only so many may wait at once; authenticating frees a place', async () => {
    const waiting: WebSocket[] = [];
    let refusedStatus: number | undefined;
    try {
      for (let i = 0; i < 40 && refusedStatus === undefined; i++) {
        try {
          waiting.push(await pendingSocket());
        } catch (err) {
          refusedStatus = Number(/Unexpected server response: (\d+)/.exec((err as Error).message)?.[1]);
        }
      }
      expect(refusedStatus).toBe(503);
      expect(waiting.length).toBe(32);
      // One authenticates: a place frees up.
      const first = waiting[0]!;
      const ok = new Promise<string>((resolve) => first.once('message', (d) => resolve(String(d))));
      first.send(JSON.stringify({ auth: token }));
      expect(JSON.parse(await ok)).toEqual({ auth: 'ok' });
      const another = await pendingSocket();
      another.close();
      // Authenticated clients are not limited by it.
      const c = await connectWebSocket(wsUrl, token, xendMethods);
      await expect(c.call('host.info')).resolves.toBeTruthy();
      c.close();
    } finally {
      for (const ws of waiting) ws.terminate();
    }
  });
});

describe('the page server', () => {
  test('does not follow a symlink out of the renderer folder', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get(`${base}/leak.txt`, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    expect(r.status).toBe(403);
    expect(r.body).not.toContain('not for the web');
  });
});
