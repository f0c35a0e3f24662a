// disk / vif / vfb spec strings: every form Xen users write, and the errors for the ones we refuse.

import { describe, expect, test } from 'vitest';
import {
  SpecError,
  formatDiskSpec,
  formatVfbSpec,
  formatVifSpec,
  parseDiskSpec,
  parseVfbSpec,
  parseVifSpec,
  type DiskSpec,
} from '../../engine/config/index.js';

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SpecError) return e;
    throw e;
  }
  throw new Error('expected a SpecError');
}

const disk = (over: Partial<DiskSpec>): DiskSpec => ({
  backend: 'file',
  target: '/img/a.img',
  format: 'raw',
  vdev: 'xvda',
  devtype: 'disk',
  access: 'w',
  ...over,
});

describe('disk specs, xm form', () => {
  test.each<[string, Partial<DiskSpec>]>([
    ['phy:/dev/targetvg/lv,sda,w', { backend: 'phy', target: '/dev/targetvg/lv', vdev: 'sda' }],
    ['phy:sda7,xvda,w', { backend: 'phy', target: '/dev/sda7' }],
    ['phy:/dev/vg0/data,xvdb,r', { backend: 'phy', target: '/dev/vg0/data', vdev: 'xvdb', access: 'r' }],
    ['file:/img/a.img,xvda,w', {}],
    ['file:/img/a.img,xvda1,w', { partition: 1 }],
    // Xen's block-nbd form (tools/examples/xmexample.nbd): QEMU is the NBD client.
    ['nbd:134.100.233.115 20004,hda1,w', { backend: 'nbd', target: '134.100.233.115 20004', vdev: 'hda', partition: 1 }],
    ['nbd:nbd.example.org:10809,xvda,r', { backend: 'nbd', target: 'nbd.example.org:10809', access: 'r' }],
    ['file:/img/a.img,hda,w!', { vdev: 'hda', access: 'w!' }],
    ['file:/img/a.img,sdb,rw', { vdev: 'sdb' }],
    ['file:/img/a.img,xvda,ro', { access: 'r' }],
    ['tap:aio:/var/lib/xen/images/Centos5Image.img,xvda,w', { backend: 'tap', target: '/var/lib/xen/images/Centos5Image.img' }],
    ['tap:qcow:/img/q.qcow,xvda,w', { backend: 'tap', format: 'qcow', target: '/img/q.qcow' }],
    ['tap:qcow2:/img/q.qcow2,xvda,w', { backend: 'tap', format: 'qcow2', target: '/img/q.qcow2' }],
    ['tap:vmdk:/img/v.vmdk,xvda,w', { backend: 'tap', format: 'vmdk', target: '/img/v.vmdk' }],
    ['tap:vhd:/img/v.vhd,xvda,w', { backend: 'tap', format: 'vhd', target: '/img/v.vhd' }],
    ['tap:tapdisk:aio:/img/a.img,xvda,w', { backend: 'tap' }],
    ['tap2:tapdisk:qcow2:/img/a.img,xvda,w', { backend: 'tap', format: 'qcow2' }],
    ['tap:aio:qcow:/img/a.img,xvda,w', { backend: 'tap', format: 'qcow' }],
    ['file:/iso/i.iso,hdc:cdrom,r', { target: '/iso/i.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    // A CD-ROM is read-only whatever the spec says.
    ['file:/iso/i.iso,hdc:cdrom,w', { target: '/iso/i.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    [',hdc:cdrom,r', { target: '', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    ['phy:/dev/cdrom,hdc:cdrom,r', { backend: 'phy', target: '/dev/cdrom', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    ['file:/img/a.img,ioemu:hda,w', { vdev: 'hda' }],
    ['file:/img/a.img,51712,w', { vdev: '51712' }],
    ['file:/img/with:colon=and.img,xvda,w', { target: '/img/with:colon=and.img' }],
    ['file:/img/a.img,xvdaa,w', { vdev: 'xvdaa' }],
    ['qcow2:/img/q.qcow2,xvda,w', { backend: 'tap', format: 'qcow2', target: '/img/q.qcow2' }],
    ['raw:/dev/vg/guest-volume,hda,w', { backend: 'phy', target: '/dev/vg/guest-volume', vdev: 'hda' }],
    // Without a prefix: the xm shape is still recognised by its vdev.
    ['/img/a.img,xvda,w', {}],
    ['/dev/vg/lv,xvda,r', { backend: 'phy', target: '/dev/vg/lv', access: 'r' }],
  ])('%s', (spec, expected) => {
    expect(parseDiskSpec(spec)).toEqual(disk(expected));
  });
});

describe("disk specs, xl's form", () => {
  test.each<[string, Partial<DiskSpec>]>([
    ['/dev/vg/guest-volume,,hda', { backend: 'phy', target: '/dev/vg/guest-volume', vdev: 'hda' }],
    ['/dev/vg/guest-volume,raw,hda,rw', { backend: 'phy', target: '/dev/vg/guest-volume', vdev: 'hda' }],
    ['format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume', { backend: 'phy', target: '/dev/vg/guest-volume', vdev: 'hda' }],
    ['/root/image.iso,,hdc,cdrom', { target: '/root/image.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    ['/root/image.iso,,hdc,,cdrom', { target: '/root/image.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    ['/root/image.iso,raw,hdc,devtype=cdrom', { target: '/root/image.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    [
      'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso',
      { target: '/root/image.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' },
    ],
    ['raw:/root/image.iso,hdc:cdrom,ro', { target: '/root/image.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    ['format=qcow2,vdev=xvda,access=rw,target=/img/odd,name.qcow2', { backend: 'tap', format: 'qcow2', target: '/img/odd,name.qcow2' }],
    // target= eats everything after it, so option-looking text stays part of the path.
    [
      'format=raw,vdev=xvda,access=rw,target=/img/a.img,driver=host_device,filename=/dev/sda',
      { target: '/img/a.img,driver=host_device,filename=/dev/sda' },
    ],
    ['/img/q.qcow2,qcow2,xvdb,w', { backend: 'tap', format: 'qcow2', target: '/img/q.qcow2', vdev: 'xvdb' }],
    ['vdev=xvda,/img/a.img', {}],
    ['cdrom,vdev=hdc', { target: '', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
    ['/img/a.img,,xvda,w!', { access: 'w!' }],
    ['/img/a.img,vhd,xvda,r', { backend: 'tap', format: 'vhd', access: 'r' }],
    ['format=vdi,vdev=xvda,target=/img/a.vdi', { backend: 'tap', format: 'vdi', target: '/img/a.vdi' }],
    ['backendtype=tap,vdev=xvda,target=/img/a.img', { backend: 'tap' }],
    ['backendtype=phy,vdev=xvda,target=/img/a.img', { backend: 'phy' }],
    ['backendtype=qdisk,vdev=xvda,target=/dev/sdz', { target: '/dev/sdz' }],
    ['/img/a.img,,xvda,w,discard,direct-io-safe,untrusted', {}],
    [',,hdc,,devtype=cdrom,target=/iso/late.iso', { target: '/iso/late.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }],
  ])('%s', (spec, expected) => {
    expect(parseDiskSpec(spec)).toEqual(disk(expected));
  });

  test('target= must come last: what follows it is part of the path', () => {
    expect(() => parseDiskSpec('target=/img/a.img,vdev=xvda')).toThrow(/no virtual device is given/);
  });
});

describe('disk spec errors name the bad part', () => {
  test.each<[string, RegExp]>([
    ['iscsi:iqn.2001-05.com.example:disk,xvda,w', /^disk backend 'iscsi:' is not supported; use phy:, file:, tap:aio:\/tap:qcow2: or nbd:$/],
    ['nbd:host,xvda,w', /^nbd target 'host' must be '<host> <port>', as in nbd:192.168.0.5 20004$/],
    ['nbd:host 99999,xvda,w', /^nbd port 99999 is not between 1 and 65535$/],
    ['nbd:-o=x 1,xvda,w', /^nbd host '-o=x' is not a host name or address$/],
    ['drbd:res0,xvda,w', /^disk backend 'drbd:' is not supported/],
    ['tap:ram:/x,xvda,w', /^disk backend 'tap:ram:' is not supported/],
    ['phy:file:/x,xvda,w', /^disk backend 'phy:file:' is not supported/],
    ['file:qcow2:/x,xvda,w', /^disk backend 'file:qcow2:' is not supported/],
    ['', /^the spec is empty/],
    ['file:/img/a.img,,w', /^no virtual device is given/],
    ['file:/img/a.img', /^no virtual device is given/],
    ['file:/img/a.img,floppy0,w', /^'floppy0' is not a virtual device name/],
    ['file:/img/a.img,xvda:floppy,w', /^unknown device type ':floppy'/],
    ['file:/img/a.img,xvda,x', /^unknown access mode 'x' \(use r, w or w!\)$/],
    ['file:img/a.img,xvda,w', /^the target 'img\/a.img' must be an absolute path/],
    ['a.img,raw,xvda,w', /^the target 'a.img' must be an absolute path/],
    [',xvda,w', /^a writable disk needs a target path$/],
    [',xvda,r', /^no target path is given; only a cdrom drive may be empty$/],
    ['/img/a.img,zip,xvda,w', /^'zip' is neither a disk format/],
    ['format=zip,vdev=xvda,target=/x', /^unknown disk format 'zip'/],
    ['/img/a.img,raw,xvda,w,extra', /^too many comma-separated parts \('extra' is left over\)$/],
    ['vdev=xvda,vdev=xvdb,target=/x', /^vdev is given twice$/],
    ['/img/a.img,xvda,w,access=r', /^access is given twice$/],
    ['color=red,vdev=xvda,target=/x', /^unknown disk option 'color='/],
    ['script=block-iscsi,vdev=xvda,target=/x', /^disk scripts \(script=block-iscsi\) are not supported/],
    ['backend=driverdom,vdev=xvda,target=/x', /^driver domains/],
    ['colo,vdev=xvda,target=/x', /^COLO replication/],
    ['devtype=floppy,vdev=xvda,target=/x', /^unknown devtype 'floppy'/],
    ['phy:/dev/vg/lv,qcow2,xvda,w', /^'qcow2' is not a virtual device name/],
    ['backendtype=phy,format=qcow2,vdev=xvda,target=/dev/x', /^phy: devices are raw block devices/],
    ['file:/img/a\nb,xvda,w', /newline or NUL/],
  ])('%s', (spec, reason) => {
    const e = specError(() => parseDiskSpec(spec));
    expect(e.reason).toMatch(reason);
    expect(e.kind).toBe('disk');
    expect(e.spec).toBe(spec);
    expect(e.message).toBe(`bad disk spec ${JSON.stringify(spec)}: ${e.reason}`);
  });
});

describe('formatDiskSpec', () => {
  test.each<[Partial<DiskSpec>, string]>([
    [{ backend: 'tap', format: 'qcow2', target: '/x.img' }, 'tap:qcow2:/x.img,xvda,w'],
    [{ backend: 'tap', target: '/x.img' }, 'tap:aio:/x.img,xvda,w'],
    [{ target: '/iso/i.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' }, 'file:/iso/i.iso,hdc:cdrom,r'],
    [{ backend: 'phy', target: '/dev/vg/lv', vdev: 'sda' }, 'phy:/dev/vg/lv,sda,w'],
    [{ target: '', vdev: 'hdc', devtype: 'cdrom', access: 'r' }, ',hdc:cdrom,r'],
    [{ backend: 'phy', target: '', vdev: 'hdc', devtype: 'cdrom', access: 'r' }, 'phy:,hdc:cdrom,r'],
    [{ access: 'w!' }, 'file:/img/a.img,xvda,w!'],
    [
      { backend: 'tap', format: 'qcow2', target: '/img/odd,name.qcow2' },
      'format=qcow2,vdev=xvda,access=w,backendtype=tap,target=/img/odd,name.qcow2',
    ],
    [
      { target: '/iso/a,b.iso', vdev: 'hdc', devtype: 'cdrom', access: 'r' },
      'format=raw,vdev=hdc,access=r,devtype=cdrom,backendtype=qdisk,target=/iso/a,b.iso',
    ],
  ])('%j → %s', (spec, text) => {
    const d = disk(spec);
    expect(formatDiskSpec(d)).toBe(text);
    expect(parseDiskSpec(text)).toEqual(d);
  });
});

describe('vif specs', () => {
  test('all keys, normalised', () => {
    expect(
      parseVifSpec(
        'mac=00:16:3E:79:FD:8D, bridge=xenbr0,ip=10.0.0.5,vifname=vif-web.0,model=e1000,rate=10Mb/s,type=ioemu,script=vif-bridge',
      ),
    ).toEqual({
      mac: '00:16:3e:79:fd:8d',
      bridge: 'xenbr0',
      ip: '10.0.0.5',
      vifname: 'vif-web.0',
      model: 'e1000',
      rate: '10Mb/s',
      type: 'ioemu',
      script: 'vif-bridge',
    });
  });

  test('hostfwd: NAT port forwards, loopback unless an address is given', () => {
    expect(parseVifSpec('hostfwd=tcp:2222:22  udp:0.0.0.0:5353:53')).toEqual({ hostfwd: 'tcp:2222:22 udp:0.0.0.0:5353:53' });
    expect(formatVifSpec(parseVifSpec('model=virtio,hostfwd=tcp:8080:80'))).toBe('model=virtio,hostfwd=tcp:8080:80');
  });

  test("'' is all defaults, as are stray commas", () => {
    expect(parseVifSpec('')).toEqual({});
    expect(parseVifSpec(' , ')).toEqual({});
  });

  test('the seed example', () => {
    expect(parseVifSpec('mac=00:16:3e:79:fd:8d,bridge=xenbr0')).toEqual({ mac: '00:16:3e:79:fd:8d', bridge: 'xenbr0' });
  });

  test('rates with intervals, IPv6 and address lists', () => {
    expect(parseVifSpec('rate=100Kb/s@20ms').rate).toBe('100Kb/s@20ms');
    expect(parseVifSpec('rate=1GB/s').rate).toBe('1GB/s');
    expect(parseVifSpec('ip=fe80::1').ip).toBe('fe80::1');
    expect(parseVifSpec('ip=10.0.0.5  10.0.0.6/24').ip).toBe('10.0.0.5 10.0.0.6/24');
    expect(parseVifSpec('model=virtio-net-pci').model).toBe('virtio-net-pci');
    expect(parseVifSpec('type=netfront').type).toBe('netfront');
  });

  test.each<[string, RegExp]>([
    ['mac=01:16:3e:00:00:01', /^mac '01:16:3e:00:00:01' is a multicast address \(the low bit of its first byte is set\)/],
    ['mac=ff:ff:ff:ff:ff:ff', /multicast/],
    ['mac=00:16:3e:00:00', /^mac '00:16:3e:00:00' must be six hex pairs/],
    ['mac=00-16-3e-00-00-01', /six hex pairs/],
    ['mac=00:16:3e:00:00:0g', /six hex pairs/],
    ['bridge=this-name-is-too-long', /^bridge 'this-name-is-too-long' must be 1 to 15 characters long$/],
    ['bridge=br 0', /^bridge 'br 0' may only contain/],
    ['vifname=a/b', /^vifname 'a\/b' may only contain/],
    ['vifname=..', /not a usable interface name/],
    ['model=E1000', /^model 'E1000' may only contain a-z/],
    ['model=e1000;reboot', /may only contain/],
    ['rate=fast', /^rate 'fast' must look like 10Mb\/s/],
    ['ip=10.0.0.300', /^ip '10.0.0.300' is not an IPv4 or IPv6 address$/],
    ['ip=10.0.0.1/33', /not an IPv4/],
    ['type=e1000', /^type 'e1000' must be one of ioemu, netfront, vif$/],
    ['script=rm -rf', /^script 'rm -rf' must be a script name or path$/],
    ['colour=blue', /^unknown vif option 'colour' \(known: mac, bridge, ip, vifname, model, rate, type, script, hostfwd\)$/],
    ['xenbr0', /^'xenbr0' is not key=value/],
    ['bridge=a,bridge=b', /^'bridge' is given twice$/],
    ['mac=', /^mac needs a value/],
    ['hostfwd=tcp:2222', /^hostfwd 'tcp:2222' must look like tcp:2222:22/],
    ['hostfwd=sctp:1:2', /must look like/],
    ['hostfwd=tcp:70000:22', /must look like/],
    ['hostfwd=tcp:1.2.3.999:80:80', /must look like/],
    ['hostfwd=tcp:2222:22-:23', /must look like/],
  ])('%s', (spec, reason) => {
    const e = specError(() => parseVifSpec(spec));
    expect(e.kind).toBe('vif');
    expect(e.reason).toMatch(reason);
  });

  test('format round-trips in a fixed key order', () => {
    const v = parseVifSpec('bridge=xenbr0,model=virtio,mac=00:16:3e:00:00:01');
    expect(formatVifSpec(v)).toBe('mac=00:16:3e:00:00:01,bridge=xenbr0,model=virtio');
    expect(parseVifSpec(formatVifSpec(v))).toEqual(v);
    expect(formatVifSpec({})).toBe('');
    expect(() => formatVifSpec({ bridge: 'a,b' })).toThrow(SpecError);
  });
});

describe('vfb specs', () => {
  test.each([
    ['vnc=1,vnclisten=127.0.0.1,vncdisplay=1,vncpasswd=x,keymap=de', { type: 'vnc', vnclisten: '127.0.0.1', vncdisplay: 1, vncpasswd: 'x', keymap: 'de' }],
    ['sdl=1', { type: 'sdl' }],
    ['type=vnc', { type: 'vnc' }],
    ['type=sdl,keymap=en-us', { type: 'sdl', keymap: 'en-us' }],
    ['vnc=1,vncunused=1', { type: 'vnc', vncunused: true }],
    ['vnc=1,vncunused=0', { type: 'vnc', vncunused: false }],
    ['vnc=0,sdl=1', { type: 'sdl' }],
    ['vnc=1, vnclisten=::1, keymap=fr-ch', { type: 'vnc', vnclisten: '::1', keymap: 'fr-ch' }],
    ['vnc=1,vnclisten=localhost', { type: 'vnc', vnclisten: 'localhost' }],
    ['vnc=1,vncpasswd= a b ', { type: 'vnc', vncpasswd: ' a b ' }],
    ['vnc=1,vncpasswd=', { type: 'vnc', vncpasswd: '' }],
    ['vnc=1,vncdisplay=59635', { type: 'vnc', vncdisplay: 59635 }],
  ])('%s', (spec, expected) => {
    const v = parseVfbSpec(spec);
    expect(v).toEqual(expected);
    expect(parseVfbSpec(formatVfbSpec(v))).toEqual(v);
  });

  test('formatting', () => {
    expect(formatVfbSpec({ type: 'vnc', vnclisten: '0.0.0.0', vncdisplay: 3, keymap: 'de' })).toBe(
      'vnc=1,vnclisten=0.0.0.0,vncdisplay=3,keymap=de',
    );
    expect(formatVfbSpec({ type: 'sdl' })).toBe('sdl=1');
    expect(() => formatVfbSpec({ type: 'vnc', vncpasswd: 'a,b' })).toThrow(SpecError);
  });

  test.each<[string, RegExp]>([
    ['', /^say which display it is: vnc=1, sdl=1 or type=vnc$/],
    ['vnc=0', /say which display/],
    ['keymap=de', /say which display/],
    ['vnc=1,sdl=1', /^one vfb entry is either vnc or sdl/],
    ['type=spice', /^type must be vnc or sdl, got 'spice'$/],
    ['vnc=yes', /^vnc must be 0 or 1, got 'yes'$/],
    ['vnc=1,keymap=german', /^keymap 'german' must look like de, en-us or fr-ch$/],
    ['vnc=1,keymap=DE', /^keymap 'DE'/],
    ['vnc=1,vncdisplay=-1', /^vncdisplay must be a whole number, got '-1'$/],
    ['vnc=1,vncdisplay=70000', /^vncdisplay must be a whole number from 0 to 59635, got 70000$/],
    ['vnc=1,vnclisten=1.2.3.4;x', /^vnclisten '1.2.3.4;x' must be an IP address or host name$/],
    ['sdl=1,vnclisten=0.0.0.0', /^vnclisten only applies to vnc displays$/],
    ['vnc=1,opengl=1', /^unknown vfb option 'opengl'/],
    ['vnc=1,vnc=1', /^'vnc' is given twice$/],
    ['vnc', /^'vnc' is not key=value/],
  ])('%s', (spec, reason) => {
    const e = specError(() => parseVfbSpec(spec));
    expect(e.kind).toBe('vfb');
    expect(e.reason).toMatch(reason);
  });
});
