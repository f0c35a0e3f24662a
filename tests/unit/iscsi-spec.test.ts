// iSCSI LUN addresses in disk lines: what is accepted, what is refused and why, and the round trip.

import { describe, expect, test } from 'vitest';
import { formatDiskSpec, parseDiskSpec, parseIscsiUrl, parsePortal } from '../../engine/config/index.js';

describe('iscsi:// disk lines', () => {
  test('a LUN address is a raw iscsi disk and prints back the same', () => {
    const d = parseDiskSpec('iscsi://192.168.1.10:3260/iqn.2026-12.com.example:storage1/1,xvda,w');
    expect(d).toEqual({ backend: 'iscsi', target: 'iscsi://192.168.1.10:3260/iqn.2026-12.com.example:storage1/1', format: 'raw', vdev: 'xvda', devtype: 'disk', access: 'w' });
    expect(formatDiskSpec(d)).toBe('iscsi://192.168.1.10:3260/iqn.2026-12.com.example:storage1/1,xvda,w');
    expect(parseIscsiUrl('iscsi://[fe80::1]/eui.0123456789ABCDEF/0')).toMatchObject({ host: '[fe80::1]', port: 3260, lun: 0 });
  });

  test('anything that could smuggle options or another target is refused with the form to use', () => {
    expect(() => parseDiskSpec('iscsi://h/iqn.2026-12.com.example:x,lun=1/1,xvda,w')).toThrow(/not an iSCSI LUN address; write iscsi:\/\/<portal>\/<target IQN>\/<LUN>/);
    expect(() => parseDiskSpec('iscsi://h/storage1/1,xvda,w')).toThrow(/'storage1' is not an iSCSI target name/);
    expect(() => parseDiskSpec('iscsi://user@h/iqn.2026-12.com.example:x/1,xvda,w')).toThrow(/not an iSCSI portal/);
    expect(() => parseDiskSpec('iscsi://h:70000/iqn.2026-12.com.example:x/1,xvda,w')).toThrow(/out of range/);
    expect(() => parseDiskSpec('format=qcow2,vdev=xvda,target=iscsi://h/iqn.2026-12.com.example:x/1')).toThrow();
    expect(parsePortal('h:1')).toEqual({ host: 'h', port: 1 });
  });
});
