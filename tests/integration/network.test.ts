// Networks for real: a NAT port forward (from the config, and on a NIC hot-added with xm
// network-attach) reaches a busybox `nc -l` in the guest; two guests on an isolated bridge ping
// each other, one of them over a NIC hot-added to the bridge. The bridge test runs xend inside a
// network namespace it creates (never touching the host's interfaces) and needs root.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { READY } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';
import { guestUntil } from './helpers/guest.js';
import { XendProcess } from './helpers/xend-process.js';

const isRoot = process.getuid?.() === 0;
const cleanups: Array<() => Promise<void> | void> = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function boot(x: XendProcess, name: string, extra: string[]): Promise<SerialConsole> {
  await x.xmOk('create', '-p', x.guestCfg(name, extra));
  const serial = await SerialConsole.attach(x.runtimeDir(name));
  cleanups.push(() => serial.close());
  await x.xmOk('unpause', name);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  return serial;
}


/** Connect to the forwarded port until the guest's listener has the text (it may not listen yet). */
async function sendThroughForward(serial: SerialConsole, port: number, file: string, text: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    await new Promise<void>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(`${text}\n`));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    const got = await serial.run(`cat ${file} 2>/dev/null`);
    if (got.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`the guest never received '${text}' through port ${port}`);
    await serial.run('sleep 0.5');
  }
}

describe('user-mode NAT', () => {
  test('a port forward from the config, and one on a hot-added NIC, reach a listener in the guest', async () => {
    const x = await XendProcess.start();
    cleanups.push(() => x.stop(['nat-guest']));
    const [p1, p2] = [await freePort(), await freePort()];
    const serial = await boot(x, 'nat-guest', [`vif = ['hostfwd=tcp:${p1}:7001']`]);
    // slirp's network: the guest is 10.0.2.15/24.
    await serial.run('ip addr add 10.0.2.15/24 dev eth0; ip link set eth0 up');
    serial.send('nc -l -p 7001 > /tmp/got1 &\n');
    await sendThroughForward(serial, p1, '/tmp/got1', 'hello-through-hostfwd');

    await x.xmOk('network-attach', 'nat-guest', `hostfwd=tcp:${p2}:7002`, 'model=virtio');
    const list = await x.xmOk('network-list', 'nat-guest');
    expect(list.split('\n')[0]).toBe('Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path');
    expect(list).toMatch(/^1 {3}0 {2}00:16:3e:[0-9a-f:]{8}\s+1\s+4\s+-\s+-\s*\/-\s+\/local\/domain\/0\/backend\/vif\/\d+\/1$/m);
    await guestUntil(serial, 'ls /sys/class/net', (o) => /\beth1\b/.test(o));
    await serial.run('ip addr add 10.0.2.15/24 dev eth1; ip link set eth0 down; ip link set eth1 up');
    serial.send('nc -l -p 7002 > /tmp/got2 &\n');
    await sendThroughForward(serial, p2, '/tmp/got2', 'hello-through-hotplugged-nic');

    await x.xmOk('network-detach', 'nat-guest', '1');
    await guestUntil(serial, 'ls /sys/class/net', (o) => !/\beth1\b/.test(o));
    expect(await x.xmOk('network-list', 'nat-guest')).not.toMatch(/^1 /m);
    const bad = await x.xm('network-attach', 'nat-guest', 'mac=01:00:00:00:00:01');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/multicast address/);
    const badBridge = await x.xm('network-attach', 'nat-guest', 'bridge=br;rm');
    expect(badBridge.stderr).toMatch(/may only contain letters, digits/);
  }, 240_000);
});

describe.skipIf(!isRoot)('isolated network (root: runs xend in a network namespace of its own)', () => {
  test('two guests on an isolated bridge ping each other, one over a hot-added NIC', async (ctx) => {
    const ns = `d0t-${randomBytes(4).toString('hex')}`;
    // Root in a container may still lack the rights (CAP_SYS_ADMIN, /dev/net/tun): say so and skip.
    try {
      if (!existsSync('/dev/net/tun')) throw new Error('/dev/net/tun is missing');
      execFileSync('ip', ['netns', 'add', ns], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      console.log(`network.test.ts: isolated-bridge test skipped: cannot create a network namespace here (${(err as Error).message.trim()})`);
      ctx.skip();
      return;
    }
    cleanups.push(() => void execFileSync('ip', ['netns', 'del', ns]));
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const x = await XendProcess.start({ netns: ns });
    cleanups.push(() => x.stop(['iso-a', 'iso-b']));

    expect(await x.xmOk('net-define', '--isolated', 'iso0')).toContain('Network iso0 defined on bridge iso0 (active)');
    // The bridge exists in the namespace only.
    expect(execFileSync('ip', ['-n', ns, '-o', 'link', 'show', 'iso0'], { encoding: 'utf8' })).toContain('iso0');
    expect(() => execFileSync('ip', ['link', 'show', 'iso0'], { stdio: 'ignore' })).toThrow();

    const a = await boot(x, 'iso-a', ["vif = ['bridge=iso0']"]);
    const b = await boot(x, 'iso-b', []);
    await x.xmOk('network-attach', 'iso-b', 'bridge=iso0');
    await guestUntil(b, 'ls /sys/class/net', (o) => /\beth0\b/.test(o));
    const nets = await x.xmOk('net-list');
    expect(nets).toMatch(/^default\s+nat\s+-\s+active\s+-$/m);
    expect(nets).toMatch(/^iso0\s+isolated\s+iso0\s+active\s+vifiso-a\.0,vifiso-b\.\d$/m);
    

    await a.run('ip addr add 10.99.0.1/24 dev eth0; ip link set eth0 up');
    await b.run('ip addr add 10.99.0.2/24 dev eth0; ip link set eth0 up');
    const ping = await guestUntil(b, 'ping -c 2 -W 2 10.99.0.1', (o) => /2 packets received/.test(o), 90_000);
    expect(ping).toMatch(/2 packets transmitted, 2 packets received/);
    expect(await a.run('ping -c 1 -W 2 10.99.0.2')).toMatch(/1 packets received/);
    // Isolated: the bridge has no uplink, only the two guests' taps.
    expect(execFileSync('ip', ['-n', ns, '-o', 'link', 'show', 'master', 'iso0'], { encoding: 'utf8' }).trim().split('\n')).toHaveLength(2);

    const undef = await x.xm('net-undefine', 'iso0');
    expect(undef.code).toBe(1);
    expect(undef.stderr).toMatch(/network 'iso0' is in use .*detach those domains' NICs first/);
  }, 300_000);
});

if (!isRoot) console.log('network.test.ts: the isolated-bridge test is skipped: it needs root to create a network namespace and bridges');
