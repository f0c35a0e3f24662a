// Add Hardware and Host details in the renderer: the disk and vif lines they send (the engine's
// config grammar reads them back), device names per bus, input checks, and the Host details route.

import { describe, expect, test } from 'vitest';
import { parseDiskSpec, parseVifSpec } from '../../engine/config/index.js';
import { diskLine, gibToBytes, hostfwdProblem, macProblem, nextVdev, vifLine, volumeNameProblem } from '../../renderer/src/model/hardware.js';
import { formatRoute, parseRoute } from '../../renderer/src/model/route.js';

const disks = (...vdevs: string[]) => ({ disk: vdevs.map((vdev) => ({ backend: 'file' as const, target: '/x', format: 'raw' as const, vdev, devtype: 'disk' as const, access: 'w' as const })) });

describe('Add Hardware lines', () => {
  test('disk lines parse back to what was chosen', () => {
    expect(parseDiskSpec(diskLine({ path: '/img/a.qcow2', format: 'qcow2', vdev: 'xvdb', readOnly: false, cdrom: false }))).toEqual({
      backend: 'tap',
      target: '/img/a.qcow2',
      format: 'qcow2',
      vdev: 'xvdb',
      devtype: 'disk',
      access: 'w',
    });
    expect(parseDiskSpec(diskLine({ path: '/img/b.img', format: 'raw', vdev: 'sdb', readOnly: true, cdrom: false }))).toMatchObject({ backend: 'file', format: 'raw', vdev: 'sdb', access: 'r' });
    expect(parseDiskSpec(diskLine({ path: '/iso/x.iso', format: 'raw', vdev: 'hdc', readOnly: false, cdrom: true }))).toMatchObject({ devtype: 'cdrom', access: 'r', vdev: 'hdc' });
  });

  test('vif lines: NAT with forwards, bridged without; MAC lower-cased', () => {
    expect(parseVifSpec(vifLine({ model: 'virtio', hostfwd: ' tcp:2222:22  udp:5353:53 ' }))).toEqual({ model: 'virtio', hostfwd: 'tcp:2222:22 udp:5353:53' });
    expect(parseVifSpec(vifLine({ bridge: 'xenbr0', model: 'e1000', mac: '00:16:3E:AA:BB:CC', hostfwd: 'tcp:1:2' }))).toEqual({ bridge: 'xenbr0', model: 'e1000', mac: '00:16:3e:aa:bb:cc' });
  });

  test('next free device name per bus; hdX and sdX share the AHCI ports', () => {
    expect(nextVdev(disks(), 'virtio')).toBe('xvda');
    expect(nextVdev(disks('xvda', 'xvdb'), 'virtio')).toBe('xvdc');
    expect(nextVdev(disks('hda', 'sdb'), 'sata')).toBe('sdc');
    expect(nextVdev(disks('hda', 'sdb'), 'ide')).toBe('hdc');
    expect(nextVdev(disks('sda', 'sdb', 'sdc', 'sdd', 'hde', 'hdf'), 'sata')).toBeUndefined();
  });

  test('input checks', () => {
    expect(macProblem('')).toBeUndefined();
    expect(macProblem('00:16:3e:00:00:01')).toBeUndefined();
    expect(macProblem('01:00:5e:00:00:01')).toMatch(/multicast/);
    expect(macProblem('00-16-3e-00-00-01')).toMatch(/six hex pairs/);
    expect(hostfwdProblem('tcp:2222:22 udp:0.0.0.0:53:53')).toBeUndefined();
    expect(hostfwdProblem('tcp:2222')).toMatch(/is not a forward/);
    expect(hostfwdProblem('tcp:99999:22')).toMatch(/is not a forward/);
    expect(gibToBytes('0.5')).toBe(512 * 1024 ** 2);
    expect(gibToBytes('0')).toBeUndefined();
    expect(gibToBytes('ten')).toBeUndefined();
    expect(volumeNameProblem('web.qcow2')).toBeUndefined();
    expect(volumeNameProblem('../etc/passwd')).toMatch(/Use letters/);
    expect(volumeNameProblem('')).toMatch(/Give the volume a name/);
  });
});

describe('Host details route', () => {
  test.each([
    ['#/host', { view: 'host', conn: 'local', tab: 'storage' }],
    ['#/host/networks', { view: 'host', conn: 'local', tab: 'networks' }],
    ['#/connection/lab/host/storage', { view: 'host', conn: 'lab', tab: 'storage' }],
    ['#/host/bogus', { view: 'manager' }],
  ])('%s', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    if (route.view === 'host') expect(parseRoute(formatRoute(route as never))).toEqual(route);
  });
});
