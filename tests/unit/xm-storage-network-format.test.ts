// xm's storage and network output: Xen's block-list / network-list layouts, our pool/vol/net lists,
// and the size syntax vol-create and vol-resize read.

import { describe, expect, test } from 'vitest';
import { formatBlockList, formatBytes, formatPoolList, formatVolList } from '../../engine/cli/xm/storage-format.js';
import { formatNetList, formatNicList } from '../../engine/cli/xm/network-format.js';
import { parseSize } from '../../engine/storage/index.js';

describe('sizes', () => {
  test.each([
    ['4096', 4096],
    ['10G', 10 * 1024 ** 3],
    ['512M', 512 * 1024 ** 2],
    ['1.5T', 1.5 * 1024 ** 4],
    ['64KiB', 64 * 1024],
    ['2g', 2 * 1024 ** 3],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test.each(['', 'lots', '-1G', '0', '1Q', '1e9'])('%j is refused', (text) => expect(() => parseSize(text)).toThrow(/is not a (usable )?size/));

  test('formatBytes uses binary units with two decimals', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(16 * 1024 ** 2)).toBe('16.00 MiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.50 GiB');
  });
});

describe('xm storage lists', () => {
  test('pool-list and vol-list', () => {
    const pools = formatPoolList([{ name: 'default', type: 'dir', path: '/var/lib/dom0/images', capacity: 100 * 1024 ** 3, allocation: 40 * 1024 ** 3, available: 60 * 1024 ** 3, volumes: 2 }]);
    expect(pools).toBe(
      'Name                 Type     Capacity  Allocation   Available Vols Path\n' +
        'default              dir    100.00 GiB   40.00 GiB   60.00 GiB    2 /var/lib/dom0/images\n',
    );
    const vols = formatVolList([
      { pool: 'default', name: 'web.qcow2', path: '/img/web.qcow2', format: 'qcow2', capacity: 10 * 1024 ** 3, allocation: 200 * 1024 ** 2, usedBy: ['web', 'web2'] },
      { pool: 'default', name: 'free.img', path: '/img/free.img', format: 'raw', capacity: 1024 ** 2, allocation: 0, usedBy: [] },
    ]);
    expect(vols.split('\n')).toEqual([
      'Name                     Format    Capacity  Allocation Used-by          Path',
      'web.qcow2                qcow2    10.00 GiB  200.00 MiB web,web2         /img/web.qcow2',
      'free.img                 raw       1.00 MiB         0 B -                /img/free.img',
      '',
    ]);
  });

  test("block-list has Xen's header and device numbers", () => {
    const out = formatBlockList(3, [{ devid: 51712, vdev: 'xvda', backend: 'file', target: '/img/a', format: 'raw', devtype: 'disk', access: 'w', state: 4 }]);
    expect(out).toBe('Vdev  BE handle state evt-ch ring-ref BE-path\n51712 0  0      4     -      -        /local/domain/0/backend/vbd/3/51712\n');
  });
});

describe('xm network lists', () => {
  test("network-list has Xen's header, the MAC and the backend path", () => {
    const out = formatNicList(5, [{ idx: 0, mac: '00:16:3e:12:34:56', model: 'virtio', network: 'nat', state: 4 }]);
    expect(out).toBe(
      'Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path\n' +
        '0   0  00:16:3e:12:34:56    0     4      -     -    /-       /local/domain/0/backend/vif/5/0\n',
    );
  });

  test('net-list', () => {
    const out = formatNetList([
      { name: 'default', type: 'nat', active: true, ports: [] },
      { name: 'iso0', type: 'isolated', bridge: 'iso0', active: false, ports: ['vifweb.0'] },
    ]);
    expect(out.split('\n')).toEqual([
      'Name             Type      Bridge          State    Ports',
      'default          nat       -               active   -',
      'iso0             isolated  iso0            inactive vifweb.0',
      '',
    ]);
  });
});
