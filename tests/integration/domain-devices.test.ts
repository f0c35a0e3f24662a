// Devices from the config reach the guest for real: disks (raw and qcow2, at hostile paths,
// read-only), NICs with their MACs, and the VGA console behind VNC.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { findQemuImg } from '../../engine/qemu/index.js';
import { SerialConsole } from './helpers/serial.js';
import { guestConfig, READY, startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine | undefined;
const consoles: SerialConsole[] = [];

afterEach(async () => {
  for (const c of consoles.splice(0)) c.close();
  await engine?.dispose();
  engine = undefined;
});

async function bootWith(name: string, extra: string) {
  const info = await engine!.manager.create(guestConfig(name, extra), { paused: true });
  const serial = await SerialConsole.attach(info.runtimeDir);
  consoles.push(serial);
  await engine!.manager.unpause(info.domid);
  await serial.waitFor(READY);
  return { info, serial };
}

describe('devices reach the guest', () => {
  test('virtio disks: raw at a path with "," and "=", qcow2 from qemu-img, and a read-only one', async () => {
    engine = startTestEngine();
    const dir = join(engine.home, 'img,driver=host_device');
    mkdirSync(dir);
    const raw = join(dir, 'a,b=c.img');
    writeFileSync(raw, Buffer.alloc(8 * 1024 * 1024));
    const qcow2 = join(engine.home, 'b.qcow2');
    execFileSync(findQemuImg(), ['create', '-q', '-f', 'qcow2', qcow2, '16M']);
    const ro = join(engine.home, 'ro.img');
    writeFileSync(ro, Buffer.alloc(4 * 1024 * 1024));
    // The comma-containing path needs xl's form with target= last.
    const disks = `disk = ['format=raw,vdev=xvda,access=rw,target=${raw}', 'tap:qcow2:${qcow2},xvdb,w', 'file:${ro},xvdc,r']`;
    const { serial } = await bootWith('dev-disks', disks);
    const sizes = await serial.run('for d in vda vdb vdc; do echo $d $(cat /sys/block/$d/size) $(cat /sys/block/$d/ro); done');
    expect(sizes).toContain('vda 16384 0'); // 8 MiB in 512-byte sectors
    expect(sizes).toContain('vdb 32768 0');
    expect(sizes).toContain('vdc 8192 1');
    // Data written by the guest lands in the file at the hostile path.
    await serial.run('echo dom0-wrote-this > /dev/vda; sync');
    expect(readFileSync(raw).subarray(0, 15).toString()).toBe('dom0-wrote-this');
  });

  test('NICs: user-mode NAT by default, with the configured MAC and a generated Xen MAC', async () => {
    engine = startTestEngine();
    const { info, serial } = await bootWith('dev-nics', "vif = ['mac=00:16:3e:12:34:56', 'model=virtio']");
    const macs = await serial.run('cat /sys/class/net/eth0/address /sys/class/net/eth1/address');
    expect(macs).toContain('00:16:3e:12:34:56');
    expect(info.macs[0]).toBe('00:16:3e:12:34:56');
    expect(info.macs[1]).toMatch(/^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    expect(macs).toContain(info.macs[1]);
  });

  test('vcpu-set plugs a vCPU into the running guest, up to maxvcpus', async () => {
    engine = startTestEngine();
    const { info, serial } = await bootWith('dev-vcpu', 'vcpus = 1\nmaxvcpus = 2');
    expect((await serial.run('cat /sys/devices/system/cpu/possible')).trim()).toBe('0-1');
    await engine.manager.vcpuSet(info.domid, 2);
    expect(engine.manager.info(info.domid).vcpus).toBe(2);
    expect(await engine.manager.vcpuList(info.domid)).toHaveLength(2);
    // The guest sees the new CPU and can bring it online.
    // Onlining can meet EBUSY while the kernel still sets the new CPU up: retry until it is online.
    const online = await serial.run(
      'for i in $(seq 100); do [ "$(cat /sys/devices/system/cpu/online)" = 0-1 ] && break; echo 1 > /sys/devices/system/cpu/cpu1/online 2>/dev/null; sleep 0.1; done; cat /sys/devices/system/cpu/present /sys/devices/system/cpu/online',
    );
    expect(online).toContain('0-1\n0-1');
    await expect(engine.manager.vcpuSet(info.domid, 3)).rejects.toThrow(/between 1 and the domain's maxvcpus \(2\)/);
  });

  test('vfb vnc: the VGA console is served on the unix socket and shows the guest screen', async () => {
    engine = startTestEngine();
    const { info, serial } = await bootWith('dev-vga', "vfb = ['vnc=1']\nstdvga = 1");
    expect(existsSync(join(info.runtimeDir, 'vnc.sock'))).toBe(true);
    // Type on the VGA console; the shell on tty1 writes to serial.
    const from = serial.text.length;
    for (const ch of 'echo vga-typed > /dev/ttyS0\n') await engine.manager.sendKey(info.domid, keyFor(ch));
    await serial.waitFor('vga-typed', { from });
    const shot = join(engine.home, 'screen.png');
    await engine.manager.screenshot(info.domid, shot);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // 720x400 text mode, or the framebuffer console's 640x480 and up.
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(640);
  });
});

/** QEMU qcodes for one character of a US layout. */
function keyFor(ch: string): string[] {
  const named: Record<string, string[]> = {
    ' ': ['spc'],
    '\n': ['ret'],
    '-': ['minus'],
    '/': ['slash'],
    '>': ['shift', 'dot'],
  };
  if (/[A-Z]/.test(ch)) return ['shift', ch.toLowerCase()];
  return named[ch] ?? [ch];
}
