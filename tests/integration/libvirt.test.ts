// libvirt hosts beside the Dom0 engine, end to end against the real libvirtd and a real sshd:
// xend (in web mode) adds libvirt connections by URI; each connection's domains are served on
// `/engine?connection=<id>` with xend's method names, read here with the engine's own client.
// The test guest boots under libvirt with direct kernel boot (TCG).

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolvePaths } from '../../engine/common/paths.js';
import { xendEvents, xendMethods, xendStreams } from '../../engine/protocol/common/xend-api.js';
import { libvirtDomainMethods, type ConnectionRow } from '../../engine/protocol/common/connections-api.js';
import { connectWebSocket } from '../../engine/protocol/node/ws-client.js';
import { RemoteError } from '../../engine/protocol/common/errors.js';
import { startXend, type XendHandle } from '../../engine/xend/daemon.js';
import { connectLibvirt, LibvirtConnectError } from '../../engine/libvirt/index.js';
import { requireGuest } from './helpers/engine.js';
import { ensureLibvirtd, libvirtUnavailable, startTestSshd, virsh, virshCleanup, virshDefine, virshState, virshTry, type TestSshd } from './helpers/libvirtd.js';

const skip = libvirtUnavailable();
if (skip) console.warn(`libvirt tests skipped: ${skip}`);

const tag = Math.random().toString(36).slice(2, 8);
const NAME = `dom0-lv-${tag}`;
const LATE = `dom0-lv-late-${tag}`;
const SNAP = `dom0-lv-snap-${tag}`;

let home: string;
let xend: XendHandle;
let token: string;
let wsUrl: string;
let sshd: TestSshd;
type Engine = Awaited<ReturnType<typeof engineClient>>;
type Endpoint = Awaited<ReturnType<typeof endpointClient>>;
let engine: Engine;

async function engineClient() {
  return connectWebSocket(wsUrl, token, xendMethods, { events: xendEvents, streams: xendStreams });
}

async function endpointClient(id: string) {
  return connectWebSocket(`${wsUrl}?connection=${id}`, token, libvirtDomainMethods, { events: xendEvents, streams: xendStreams });
}

/** The error a call refused with (fails the test when it succeeded). */
async function refusal(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RemoteError);
    return err as RemoteError;
  }
  throw new Error('the call succeeded but was expected to fail');
}

function sshUri(extra = ''): string {
  return `qemu+ssh://root@127.0.0.1:${sshd.port}/system?keyfile=${sshd.clientKey}&known_hosts=${sshd.knownHosts}${extra}`;
}

/** Reads a byte stream as text and waits for a pattern in what arrives. */
function textOf(stream: NodeJS.ReadableStream): { text: () => string; waitFor: (re: RegExp, ms?: number) => Promise<string> } {
  let text = '';
  const waiters = new Set<() => void>();
  stream.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    for (const w of waiters) w();
  });
  return {
    text: () => text,
    waitFor: (re, ms = 90_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(text);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m[0]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in console output:\n${text.slice(-2000)}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
}

describe.skipIf(skip !== null)('libvirt connections', () => {
  let local: ConnectionRow;
  let lv: Endpoint;

  beforeAll(async () => {
    requireGuest();
    await ensureLibvirtd();
    sshd = await startTestSshd();
    // No display: the idle guest's CPU figure is then its own (no framebuffer refresh).
    virshDefine(NAME, { vnc: false });
    home = mkdtempSync('/tmp/d0lv-');
    const renderer = join(home, 'renderer');
    mkdirSync(renderer);
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Dom0</title>');
    xend = await startXend({ paths: resolvePaths({ DOM0_HOME: home }), env: { ...process.env, DOM0_ACCEL: 'tcg' }, web: '127.0.0.1:0', rendererDir: renderer });
    const url = new URL(xend.webUrl!);
    token = url.hash.replace('#token=', '');
    wsUrl = `ws://${url.host}/engine`;
    engine = await engineClient();
    local = await engine.call('connection.add', { uri: 'qemu:///system' });
    lv = await endpointClient(local.id);
  });

  afterAll(async () => {
    await lv?.close();
    await engine?.close();
    await xend?.stop();
    virshCleanup(NAME);
    virshCleanup(LATE);
    virshCleanup(SNAP);
    await sshd?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('the connection is kept: connected, labelled, saved for the next start', async () => {
    expect(local).toMatchObject({ uri: 'qemu:///system', label: 'QEMU/KVM', state: 'connected', autoconnect: true });
    expect((await engine.call('connection.list')).map((c) => c.uri)).toEqual(['qemu:///system']);
    const saved = JSON.parse(readFileSync(join(home, 'config/connections.json'), 'utf8')) as { libvirt: { uri: string }[] };
    expect(saved.libvirt.map((c) => c.uri)).toEqual(['qemu:///system']);
    const info = await lv.call('connection.info');
    expect(info.kind).toBe('libvirt');
    expect(info.methods).toContain('domain.start');
  });

  test('a domain defined with virsh appears in the list, and one defined later arrives as an event', async () => {
    const rows = await lv.call('domain.list');
    expect(rows.find((r) => r.name === NAME)).toMatchObject({ status: 'halted', state: '------', maxmem: 128, vcpus: 1 });
    await lv.subscribe(['domain.*']);
    const defined = new Promise((resolve) => lv.on('domain.changed', (e) => e.name === LATE && e.kind === 'defined' && resolve(e)));
    virshDefine(LATE, { vnc: false });
    await defined;
    expect((await lv.call('domain.list')).map((r) => r.name)).toContain(LATE);
  });

  test('started from Dom0, virsh shows it running', async () => {
    const started = await lv.call('domain.start', { name: NAME });
    expect(started.domid).toBeGreaterThan(0);
    expect(virshState(NAME)).toBe('running');
    expect((await lv.call('domain.list')).find((r) => r.name === NAME)).toMatchObject({ status: 'running', domid: started.domid });
  });

  test('the serial console over SSH reaches the guest, and stats show a CPU burner', async () => {
    // An unknown host key is refused, with its fingerprint; nothing is added.
    const unknown = await refusal(engine.call('connection.add', { uri: sshUri() }));
    expect(unknown.code).toBe('HostKeyUnknown');
    expect(unknown.message).toContain(sshd.hostFingerprint);
    expect(unknown.message).toContain('qemu+ssh://root@127.0.0.1');
    expect((unknown.data as { fingerprint: string }).fingerprint).toBe(sshd.hostFingerprint);
    expect((await engine.call('connection.list')).length).toBe(1);
    expect(readFileSync(sshd.knownHosts, 'utf8')).toBe('');
    // Accepted: connected, and the key is recorded as ssh would.
    const remote = await engine.call('connection.add', { uri: sshUri(), acceptHostKey: (unknown.data as { fingerprint: string }).fingerprint });
    expect(remote).toMatchObject({ state: 'connected', label: `QEMU/KVM: root@127.0.0.1:${sshd.port}` });
    expect(readFileSync(sshd.knownHosts, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));

    const far = await endpointClient(remote.id);
    try {
      expect((await far.call('domain.list')).find((r) => r.name === NAME)?.status).toBe('running');
      const serial = await far.openStream('console.serial', { ref: NAME });
      const out = textOf(serial);
      // The guest may still be booting: press Enter until its shell prompts.
      const poke = setInterval(() => serial.write('\r'), 1000);
      await out.waitFor(/guest# /).finally(() => clearInterval(poke));
      serial.write('echo typed-$((6*7))-over-ssh\r');
      await out.waitFor(/typed-42-over-ssh/);

      // A CPU burner in the guest shows in the stats ticks: well above the idle guest's figure.
      await far.subscribe(['stats.sample']);
      /** CPU % of NAME in the next ticks, until `done(seen)` (bounded). */
      const cpuUntil = (done: (seen: number[]) => boolean, what: string) =>
        new Promise<number[]>((resolve, reject) => {
          const seen: number[] = [];
          const timer = setTimeout(() => {
            sub.dispose();
            reject(new Error(`${what}: not within 90 s; CPU % seen: ${seen.map((x) => x.toFixed(1)).join(', ')}`));
          }, 90_000);
          const sub = far.on('stats.sample', (t) => {
            const d = t.domains.find((x) => x.name === NAME);
            if (d) seen.push(d.cpu);
            if (done(seen)) {
              clearTimeout(timer);
              sub.dispose();
              resolve(seen);
            }
          });
        });
      const cpuOf = (n: number) => cpuUntil((seen) => seen.length >= n, `${n} stats ticks`);
      // Just booted, the guest still loads drivers for a few seconds: its idle figure is taken
      // once three ticks in a row are quiet.
      const settled = await cpuUntil((seen) => seen.length >= 3 && seen.slice(-3).every((x) => x < 10), 'the idle guest settling');
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const idle = settled.slice(-3);
      serial.write('while :; do :; done &\r');
      await out.waitFor(/done &[\s\S]*guest# /);
      const burning = await cpuOf(6);
      // The burner's vCPU thread is always runnable, the idle guest's mostly halted: even when
      // other work squeezes both, the burner takes several times the idle share.
      const why = `idle ${idle.map((x) => x.toFixed(1)).join(', ')}; burning ${burning.map((x) => x.toFixed(1)).join(', ')}`;
      expect(median(burning.slice(1)), why).toBeGreaterThan(Math.max(2 * median(idle), median(idle) + 5));
      console.info(`guest CPU % in Dom0's stats: ${why}`);
      serial.write('kill %1\r');
      serial.destroy();
    } finally {
      await far.close();
    }
  }, 300_000);

  test('virsh destroy shows in Dom0 within a second, by event', async () => {
    await lv.subscribe(['domain.*']);
    let destroyedAt = 0;
    const destroyed = new Promise<void>((resolve) =>
      lv.on('domain.changed', (e) => {
        if (e.name === NAME && e.kind === 'destroyed') {
          destroyedAt = Date.now();
          resolve();
        }
      }),
    );
    // virsh in a terminal, as a user would type it.
    const exited = await new Promise<number>((resolve, reject) => {
      const p = spawn('virsh', ['-c', 'qemu:///system', 'destroy', NAME], { stdio: 'ignore' });
      p.once('exit', (code) => (code === 0 ? resolve(Date.now()) : reject(new Error(`virsh destroy exited ${code}`))));
    });
    await destroyed;
    expect(destroyedAt - exited).toBeLessThan(1000);
    expect((await lv.call('domain.list')).find((r) => r.name === NAME)?.status).toBe('halted');
    expect(virshState(NAME)).toBe('shut off');
  });

  test('operations refused by state or name carry xend’s named errors', async () => {
    expect((await refusal(lv.call('domain.pause', { ref: NAME }))).code).toBe('InvalidState');
    expect((await refusal(lv.call('domain.start', { name: 'no-such-domain-here' }))).code).toBe('NoSuchDomain');
  });

  test('snapshots of a libvirt domain: take (with memory), list as a tree, revert, delete', async () => {
    const disk = join(home, `${SNAP}.qcow2`);
    spawnSyncOk('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    virshDefine(SNAP, { vnc: false, qcow2: disk });
    await lv.call('domain.start', { name: SNAP });
    const s1 = await lv.call('snapshot.create', { domain: SNAP, name: 'first', description: 'before <changes> & more' });
    expect(s1).toMatchObject({ name: 'first', description: 'before <changes> & more', state: 'running', current: true });
    expect(s1.createdAt).toBeGreaterThan(Date.now() - 600_000);
    await lv.call('snapshot.create', { domain: SNAP, name: 'second' });
    let list = await lv.call('snapshot.list', { domain: SNAP });
    expect(list.map((x) => [x.name, x.parent ?? null, x.current])).toEqual([
      ['first', null, false],
      ['second', 'first', true],
    ]);
    // virsh sees the same snapshots.
    expect(virsh('snapshot-list', SNAP, '--name').split('\n').filter(Boolean).sort()).toEqual(['first', 'second']);
    await lv.call('snapshot.revert', { domain: SNAP, name: 'first' });
    list = await lv.call('snapshot.list', { domain: SNAP });
    expect(list.find((x) => x.current)?.name).toBe('first');
    await lv.call('snapshot.delete', { domain: SNAP, name: 'second' });
    expect((await lv.call('snapshot.list', { domain: SNAP })).map((x) => x.name)).toEqual(['first']);
    expect((await refusal(lv.call('snapshot.delete', { domain: SNAP, name: 'no-such' }))).code).toBe('NoSuchSnapshot');
    // A disk outside libvirt's pools cannot be deleted through it: refused before anything is done.
    const refused = await refusal(lv.call('domain.delete', { name: SNAP, storage: [disk], force: true }));
    expect(refused.code).toBe('InvalidPath');
    expect(virshState(SNAP)).toBe('running');
    expect((await lv.call('domain.delete', { name: SNAP, force: true })).deleted).toEqual([]);
    expect(virshTry('dominfo', SNAP).status).not.toBe(0);
  });

  test('bad URIs and unreachable hosts: one message naming the URI and what to do, nothing added', async () => {
    const cases: [string, string, RegExp][] = [
      ['xen:///system', 'UnsupportedUri', /xen:\/\/\/system.*Xen hosts are not supported.*qemu/],
      ['lxc:///', 'UnsupportedUri', /lxc:\/\/\/: .*LXC containers are not supported/],
      ['vbox:///session', 'UnsupportedUri', /vbox:\/\/\/session: .*VirtualBox/],
      ['qemu+tls://host/system', 'UnsupportedUri', /qemu\+ssh:\/\/host\/system instead/],
      ['qemu+unix:///system?socket=/tmp/dom0-no-such-libvirt-sock', 'DaemonNotRunning', /qemu\+unix:.*not running.*start it/],
      ['qemu+ssh://root@127.0.0.1:1/system', 'Unreachable', /127\.0\.0\.1 port 1: start sshd there or fix the port/],
      ['qemu:///nowhere', 'InvalidUri', /\/system or \/session/],
    ];
    for (const [uri, code, message] of cases) {
      const err = await refusal(engine.call('connection.add', { uri }));
      expect(err.code, uri).toBe(code);
      expect(err.message, uri).toMatch(message);
    }
    expect((await engine.call('connection.list')).map((c) => c.uri)).not.toContain('xen:///system');
    expect((await engine.call('connection.list')).length).toBe(2);
  });

  test('a changed host key is refused; a key sshd does not authorize is refused', async () => {
    const dir = mkdtempSync('/tmp/dom0-kh-');
    try {
      // known_hosts records another ed25519 key for this host:port.
      const other = join(dir, 'other');
      spawnSyncOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const changed = join(dir, 'known_hosts');
      writeFileSync(changed, `[127.0.0.1]:${sshd.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      const uri = `qemu+ssh://root@127.0.0.1:${sshd.port}/system?keyfile=${sshd.clientKey}&known_hosts=${changed}`;
      const err = await connectLibvirt(uri, { acceptHostKey: sshd.hostFingerprint }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LibvirtConnectError);
      expect((err as LibvirtConnectError).kind).toBe('host-key-changed');
      expect((err as Error).message).toContain('CHANGED');
      // Accepting does not overwrite a changed key.
      expect(readFileSync(changed, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);

      const wrongKey = `qemu+ssh://root@127.0.0.1:${sshd.port}/system?keyfile=${other}&known_hosts=${sshd.knownHosts}`;
      const denied = await connectLibvirt(wrongKey, { agent: '' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((denied as LibvirtConnectError).kind).toBe('auth-failed');
      expect((denied as Error).message).toMatch(/refused our SSH keys.*authorized_keys/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a host that goes away shows as disconnected, and is reconnected when it is back', async () => {
    const ssh = (await engine.call('connection.list')).find((c) => c.uri.startsWith('qemu+ssh'))!;
    expect(ssh.state).toBe('connected');
    await engine.subscribe(['connection.*']);
    const next = (state: string) =>
      new Promise<ConnectionRow>((resolve) => {
        const sub = engine.on('connection.changed', (row) => {
          if (row.id === ssh.id && row.state === state) {
            sub.dispose();
            resolve(row);
          }
        });
      });
    const lost = next('disconnected');
    await sshd.kill();
    const down = await lost;
    expect(down.error).toContain('qemu+ssh://root@127.0.0.1');
    expect(down.error).toMatch(/lost.*reconnecting/);
    const back = next('connected');
    await sshd.restart();
    await back;
    const far = await endpointClient(ssh.id);
    try {
      expect((await far.call('domain.list')).map((r) => r.name)).toContain(NAME);
    } finally {
      await far.close();
    }
  });

  test('the connections come back, connected, when xend restarts', async () => {
    const before = (await engine.call('connection.list')).map((c) => c.uri).sort();
    await lv.close();
    await engine.close();
    await xend.stop();
    xend = await startXend({ paths: resolvePaths({ DOM0_HOME: home }), env: { ...process.env, DOM0_ACCEL: 'tcg' }, web: '127.0.0.1:0', rendererDir: join(home, 'renderer') });
    wsUrl = `ws://${new URL(xend.webUrl!).host}/engine`;
    engine = await engineClient();
    await engine.subscribe(['connection.*']);
    const connected = new Set<string>();
    const all = new Promise<void>((resolve) => {
      const check = (rows: ConnectionRow[]) => {
        for (const r of rows) if (r.state === 'connected') connected.add(r.uri);
        if (before.every((u) => connected.has(u))) resolve();
      };
      engine.on('connection.changed', (row) => check([row]));
      void engine.call('connection.list').then(check);
    });
    await all;
    expect((await engine.call('connection.list')).map((c) => c.uri).sort()).toEqual(before);
    lv = await endpointClient((await engine.call('connection.list')).find((c) => c.uri === 'qemu:///system')!.id);
    expect((await lv.call('domain.list')).map((r) => r.name)).toContain(NAME);
  });

  test('removing a connection forgets it; its domains keep existing on the host', async () => {
    const before = await engine.call('connection.list');
    for (const c of before.filter((c) => c.uri.startsWith('qemu+ssh'))) await engine.call('connection.remove', { id: c.id });
    expect((await engine.call('connection.list')).map((c) => c.uri)).toEqual(['qemu:///system']);
    expect(virsh('list', '--all', '--name')).toContain(NAME);
  });
});

function spawnSyncOk(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
}
