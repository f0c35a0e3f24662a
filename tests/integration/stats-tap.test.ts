// Network I/O of a bridged NIC: the guest's tap on a throw-away bridge (needs CAP_NET_ADMIN, which
// these machines' root has), counters read from /sys/class/net/<tap>/statistics. Packets the guest
// sends (ARP for an address nobody has) show as its sent bytes.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { StatsSampler, DEFAULT_STATS_SETTINGS, type DomainPoint } from '../../engine/stats/index.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';

const BRIDGE = `d0st${process.pid % 100000}`;
let engine: TestEngine;
let serial: SerialConsole | undefined;

beforeAll(() => {
  execFileSync('ip', ['link', 'add', 'name', BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['link', 'set', BRIDGE, 'up']);
  engine = startTestEngine();
});

afterAll(async () => {
  serial?.close();
  await engine?.dispose();
  execFileSync('ip', ['link', 'del', BRIDGE]);
});

test("a tap NIC's traffic shows as the guest's network I/O", async () => {
  const info = await engine.manager.create(guestConfig('tapnet', `vif = ['bridge=${BRIDGE}']`));
  serial = await SerialConsole.attach(info.runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  const sampler = new StatsSampler(engine.manager, () => DEFAULT_STATS_SETTINGS);
  const sample = async (): Promise<DomainPoint & { nets: number }> => {
    const tick = await sampler.tick();
    return tick.domains.find((d) => d.name === 'tapnet')!;
  };
  const before = await sample();
  expect(before.nets).toBe(1);
  expect(before.netTxTotal).not.toBeNull();
  expect(before.netRxTotal).not.toBeNull();
  // Three ARP requests (42 bytes each, at least) for an address nobody on the bridge has.
  const out = await serial.run('ip link set eth0 up; ip addr add 10.213.77.2/24 dev eth0; ping -c 3 -W 1 10.213.77.1 2>&1; true');
  expect(out).toMatch(/PING 10\.213\.77\.1/);
  const after = await sample();
  expect(after.netTxTotal! - before.netTxTotal!).toBeGreaterThanOrEqual(3 * 42);
  expect(after.netTx).toBeGreaterThan(0);
});
