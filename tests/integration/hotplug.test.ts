// Hotplug on a running guest, for real: a disk appears in the guest's /sys/block, is written and
// read back from inside and from the host, grows while attached, and disappears on detach; a CD
// medium is inserted and ejected; a NIC appears as a new interface with its MAC and goes away.

import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseDiskSpec } from '../../engine/config/index.js';
import { blockAttach, blockDetach, liveResize, mediaChange, nicAttach, nicDetach } from '../../engine/domains/index.js';
import { findQemuImg } from '../../engine/qemu/index.js';
import { vbdDevid } from '../../engine/xend/xenstore-sync.js';
import { SerialConsole } from './helpers/serial.js';
import { guestUntil } from './helpers/guest.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine;
let serial: SerialConsole;
let domid: number;


beforeAll(async () => {
  engine = startTestEngine();
  // A CD-ROM drive with no medium, to change media on.
  const info = await engine.manager.create(guestConfig('hot', "disk = [',hdc:cdrom,r']"), { paused: true });
  domid = info.domid;
  serial = await SerialConsole.attach(info.runtimeDir);
  await engine.manager.unpause(domid);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  serial?.close();
  await engine?.dispose();
});

describe('hotplug on a running guest', () => {
  test('a disk appears in /sys/block, is written from inside, grows live, and goes on detach', async () => {
    const img = join(engine.home, 'extra.img');
    execFileSync(findQemuImg(), ['create', '-q', '-f', 'raw', img, '8M']);
    await blockAttach(engine.manager, domid, parseDiskSpec(`file:${img},xvdb,w`));
    expect(engine.manager.configOf(domid).disk.map((d) => d.vdev)).toEqual(['hdc', 'xvdb']);
    expect(engine.events.some((e) => e.kind === 'devices' && e.detail === 'attached xvdb')).toBe(true);
    // The guest's PCI hotplug (ACPI on q35's root ports) brings up a virtio disk: vda (no boot disk).
    const size = await guestUntil(serial, 'cat /sys/block/vda/size 2>/dev/null || echo none', (o) => /^\d+/.test(o.trim()));
    expect(size.trim()).toBe('16384');
    await serial.run('echo hotplug-wrote-this > /dev/vda; sync');
    expect(readFileSync(img).subarray(0, 18).toString()).toBe('hotplug-wrote-this');
    expect(await serial.run('dd if=/dev/vda bs=18 count=1 2>/dev/null')).toContain('hotplug-wrote-this');

    // Resize while attached: QEMU grows it (qemu-img could not: QEMU holds the lock), the guest sees it.
    expect(await liveResize(engine.manager, img, 16 * 1024 * 1024)).toBe(true);
    expect(statSync(img).size).toBe(16 * 1024 * 1024);
    await guestUntil(serial, 'cat /sys/block/vda/size', (o) => o.trim() === '32768');

    await blockDetach(engine.manager, domid, String(vbdDevid('xvdb')), vbdDevid);
    await guestUntil(serial, 'ls /sys/block', (o) => !/\bvda\b/.test(o));
    expect(engine.manager.configOf(domid).disk.map((d) => d.vdev)).toEqual(['hdc']);
    // The image is free again: QEMU let go of its lock, so qemu-img may write it.
    execFileSync(findQemuImg(), ['resize', '-q', '-f', 'raw', img, '20M']);
  }, 180_000);

  test('refusals: a taken vdev, an IDE disk, a CD-ROM detach, a missing disk', async () => {
    const img = join(engine.home, 'refuse.img');
    execFileSync(findQemuImg(), ['create', '-q', '-f', 'raw', img, '1M']);
    await expect(blockAttach(engine.manager, domid, parseDiskSpec(`file:${img},hdc,w`))).rejects.toThrow(/already has a disk hdc/);
    await expect(blockAttach(engine.manager, domid, parseDiskSpec(`file:${img},hdb,w`))).rejects.toThrow(/only virtio disks/);
    await expect(blockDetach(engine.manager, domid, 'hdc', vbdDevid)).rejects.toThrow(/CD-ROM drive: eject/);
    await expect(blockDetach(engine.manager, domid, 'xvdq', vbdDevid)).rejects.toThrow(/has no disk xvdq/);
  }, 60_000);

  test('CD-ROM: insert a medium, read it in the guest, eject it', async () => {
    const iso = join(engine.home, 'media.iso');
    const data = Buffer.alloc(2048 * 4);
    data.write('dom0-cdrom-medium');
    writeFileSync(iso, data);
    await mediaChange(engine.manager, domid, 'hdc', iso);
    expect(engine.manager.configOf(domid).disk[0]!.target).toBe(iso);
    // The AHCI CD driver loads in the background after boot; then sr0 reads the medium.
    await guestUntil(serial, '[ -e /run/ata-ready ] && dd if=/dev/sr0 bs=2048 count=1 2>/dev/null | head -c 17; echo', (o) => o.includes('dom0-cdrom-medium'));
    await mediaChange(engine.manager, domid, 'hdc', '');
    expect(engine.manager.configOf(domid).disk[0]!.target).toBe('');
    await guestUntil(serial, 'dd if=/dev/sr0 bs=2048 count=1 >/dev/null 2>&1 && echo readable || echo no-medium', (o) => o.includes('no-medium'));
  }, 120_000);

  test('a NIC appears with its MAC and disappears on detach', async () => {
    const before = await serial.run('ls /sys/class/net');
    const vif = await nicAttach(engine.manager, domid, { model: 'virtio' });
    expect(vif.mac).toMatch(/^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    expect(engine.manager.info(domid).macs).toEqual([vif.mac]);
    const addresses = await guestUntil(serial, 'cat /sys/class/net/*/address', (o) => o.includes(vif.mac!));
    expect(addresses).toContain(vif.mac);
    expect(before).not.toMatch(/eth0/);
    await nicDetach(engine.manager, domid, vif.mac!);
    await guestUntil(serial, 'cat /sys/class/net/*/address', (o) => !o.includes(vif.mac!));
    expect(engine.manager.configOf(domid).vif).toEqual([]);
    expect(engine.manager.info(domid).macs).toEqual([]);
  }, 120_000);
});
