// xm assignments → DomainConfig: the seed example, Xen's defaults, and every check with the
// file:line:col it reports.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  ConfigError,
  XmSyntaxError,
  domainConfigFromXm,
  loadDomainConfigText,
  parseOverride,
  parseXm,
  type ConfigIssue,
  type DomainConfig,
} from '../../engine/config/index.js';

const fixtures = join(import.meta.dirname, '../fixtures/config');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

const DEFAULTS: Omit<DomainConfig, 'name'> = {
  memory: 128,
  vcpus: 1,
  builder: 'linux',
  disk: [],
  vif: [],
  vfb: [],
  stdvga: false,
  nographic: false,
  localtime: false,
  acpi: true,
  apic: true,
  pae: true,
  usb: false,
  on_poweroff: 'destroy',
  on_reboot: 'restart',
  on_crash: 'restart',
};

function load(text: string, overrides: string[] = []): { config: DomainConfig; warnings: ConfigIssue[] } {
  return loadDomainConfigText(text, 'dom.cfg', overrides);
}

function issues(text: string, overrides: string[] = []): string[] {
  try {
    load(text, overrides);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** The one issue for a config that is `name = "t"` plus `line` on line 2. */
function issueFor(line: string): string {
  const all = issues(`name = "t"\n${line}\n`);
  expect(all).toHaveLength(1);
  return all[0] as string;
}

describe('the seed example', () => {
  test('parses unchanged and gives the expected DomainConfig, without warnings', () => {
    const { config, warnings } = load(fixture('seed.cfg'));
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      ...DEFAULTS,
      name: 'DomU-1',
      maxmem: 512,
      memory: 512,
      vcpus: 1,
      bootloader: '/usr/bin/pygrub',
      disk: [
        {
          backend: 'tap',
          target: '/var/lib/xen/images/Centos5Image.img',
          format: 'raw',
          vdev: 'xvda',
          devtype: 'disk',
          access: 'w',
        },
      ],
      vif: [{ mac: '00:16:3e:79:fd:8d', bridge: 'xenbr0' }],
      vfb: [],
    });
  });

  test('the basic forms: kernel, empty vif, phy disk', () => {
    const { config, warnings } = load(fixture('pv-kernel.cfg'));
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      ...DEFAULTS,
      name: 'ExampleDomain',
      memory: 64,
      vcpus: 2,
      cpus: '0-3,^1',
      kernel: '/boot/vmlinuz-2.6-xen.gz',
      ramdisk: '/boot/initrd-2.6-xen.gz',
      root: '/dev/sda1 ro',
      extra: '4',
      vif: [],
      disk: [{ backend: 'phy', target: '/dev/targetvg/lv', format: 'raw', vdev: 'sda', devtype: 'disk', access: 'w' }],
    });
  });

  test("an HVM config in Xen's style: hvmloader dropped, top-level vnc folded into vfb", () => {
    const { config, warnings } = load(fixture('hvm.cfg'));
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      ...DEFAULTS,
      name: 'ExampleHVMDomain',
      uuid: '06ed00fe-1162-4fc4-b5d8-11993ee4a8b9',
      builder: 'hvm',
      memory: 256,
      boot: 'cda',
      serial: 'pty',
      usbdevice: 'tablet',
      localtime: true,
      on_crash: 'preserve',
      vif: [{ type: 'ioemu', bridge: 'xenbr0', model: 'rtl8139' }],
      disk: [
        { backend: 'file', target: '/var/images/min-el3-i386.img', format: 'raw', vdev: 'hda', devtype: 'disk', access: 'w' },
        { backend: 'file', target: '', format: 'raw', vdev: 'hdc', devtype: 'cdrom', access: 'r' },
      ],
      vfb: [{ type: 'vnc', vnclisten: '127.0.0.1', vncdisplay: 1, vncunused: false, keymap: 'de' }],
    });
  });
});

describe('defaults', () => {
  test("everything but the name takes Xen's default", () => {
    expect(load('name = "x"').config).toEqual({ ...DEFAULTS, name: 'x' });
  });

  test('None means "not set"', () => {
    expect(load('name = "x"\nbootloader = None\nmemory = None\ndisk = None').config).toEqual({ ...DEFAULTS, name: 'x' });
  });

  test('a kernel that is not hvmloader is kept for hvm; hvmloader (bare or a path) means HVM firmware boot', () => {
    expect(load('name = "x"\nbuilder = "hvm"\nkernel = "/boot/vmlinuz"').config.kernel).toBe('/boot/vmlinuz');
    for (const k of ['hvmloader', '/usr/lib/xen/boot/hvmloader']) {
      const { config } = load(`name = "x"\nkernel = "${k}"`);
      expect(config.kernel).toBeUndefined();
      expect(config.builder).toBe('hvm');
    }
    expect(load('name = "x"\nbuilder = "hvm"\nkernel = "/usr/lib64/xen/boot/hvmloader"').config.kernel).toBeUndefined();
    expect(issues('name = "x"\nbuilder = "linux"\nkernel = "hvmloader"')).toEqual([
      'dom.cfg:3:1: kernel "hvmloader" is Xen\'s HVM firmware: set builder = "hvm", or name a Linux kernel',
    ]);
  });
});

describe('accepted values', () => {
  test('booleans as True/False, 0/1 and yes/no strings', () => {
    const { config } = load('name = "x"\nacpi = False\napic = 0\npae = "no"\nlocaltime = True\nusb = 1\nstdvga = "yes"\nnographic = 1');
    expect(config).toMatchObject({ acpi: false, apic: false, pae: false, localtime: true, usb: true, stdvga: true, nographic: true });
  });

  test('numbers written as strings, as xm converted them', () => {
    expect(load('name = "x"\nmemory = "512"\nvcpus = " 2 "').config).toMatchObject({ memory: 512, vcpus: 2 });
  });

  test('cpus as a string or a single int', () => {
    expect(load('name = "x"\ncpus = 3').config.cpus).toBe('3');
    for (const cpus of ['0', '0-3', '0-3,5,^1', '1,2,3', 'all', '0-7,^2-3']) {
      expect(load(`name = "x"\ncpus = "${cpus}"`).config.cpus).toBe(cpus);
    }
  });

  test('a single spec string instead of a list is a one-item list', () => {
    const { config } = load('name = "x"\ndisk = "file:/a.img,xvda,w"\nvif = "bridge=br0"\nvfb = "vnc=1"');
    expect(config.disk).toHaveLength(1);
    expect(config.vif).toEqual([{ bridge: 'br0' }]);
    expect(config.vfb).toEqual([{ type: 'vnc' }]);
  });

  test("xl's type = 'hvm' / 'pv' chooses the builder", () => {
    expect(load('name = "x"\ntype = "hvm"').config.builder).toBe('hvm');
    expect(load('name = "x"\ntype = "pv"').config.builder).toBe('linux');
    // PVH is direct kernel boot of a PV kernel.
    expect(load('name = "x"\ntype = "pvh"\nkernel = "/boot/vmlinuz"').config).toMatchObject({ builder: 'linux', kernel: '/boot/vmlinuz' });
    expect(issueFor('type = "hvm2"')).toBe('dom.cfg:2:1: type must be "pv", "pvh" or "hvm", got "hvm2"');
    expect(issues('name = "x"\nbuilder = "hvm"\ntype = "pv"')).toEqual(['dom.cfg:3:1: type "pv" contradicts builder "hvm"']);
  });

  test('top-level sdl = 1 adds an sdl display; vfb entries win over top-level vnc keys', () => {
    const sdl = load('name = "x"\nsdl = 1\nkeymap = "fr"');
    expect(sdl.config.vfb).toEqual([{ type: 'sdl', keymap: 'fr' }]);
    expect(sdl.warnings.map((w) => w.message)).toEqual(["sdl: the guest screen shows in Dom0's console window (no SDL window opens on the host)"]);
    const { config, warnings } = load('name = "x"\nvfb = ["vnc=1,vncdisplay=2"]\nvnc = 1\nvncdisplay = 5');
    expect(config.vfb).toEqual([{ type: 'vnc', vncdisplay: 2 }]);
    expect(warnings).toEqual([{ file: 'dom.cfg', line: 4, col: 1, message: 'vncdisplay is ignored: vfb already describes the vnc display' }]);
  });

  test('a variable used to build a spec works', () => {
    const { config, warnings } = load('name = "x"\nbr = "bridge=xenbr0"\nvif = [br]\n');
    expect(config.vif).toEqual([{ bridge: 'xenbr0' }]);
    // br is a variable the file reads, not a misspelt setting.
    expect(warnings.map((w) => w.message)).toEqual([]);
  });

  test('maxmem equal to memory, maxvcpus equal to vcpus, and the limits themselves', () => {
    expect(load('name = "x"\nmemory = 16\nmaxmem = 16\nvcpus = 255\nmaxvcpus = 255').config).toMatchObject({
      memory: 16,
      maxmem: 16,
      vcpus: 255,
      maxvcpus: 255,
    });
    expect(load('name = "x"\nmemory = 1048576').config.memory).toBe(1048576);
  });
});

describe('warnings', () => {
  test('unknown keys are ignored with a located warning; known Xen-only keys are silent', () => {
    const { config, warnings } = load('name = "x"\nfoo = 1\ndevice_model = "/usr/lib/xen/bin/qemu-dm"\nshadow_memory = 8\n  # c\nbar = "y"');
    expect(config).toEqual({ ...DEFAULTS, name: 'x' });
    expect(warnings).toEqual([
      { file: 'dom.cfg', line: 2, col: 1, message: "unknown key 'foo' ignored" },
      { file: 'dom.cfg', line: 6, col: 1, message: "unknown key 'bar' ignored" },
    ]);
  });

  test('vnc details without vnc = 1, and keymap without a display', () => {
    const { config, warnings } = load('name = "x"\nvnclisten = "0.0.0.0"\nvncpasswd = "pw"\nkeymap = "de"');
    expect(config.vfb).toEqual([]);
    expect(warnings.map((w) => `${w.line}: ${w.message}`)).toEqual([
      '2: vnclisten has no effect without vnc = 1',
      '3: vncpasswd has no effect without vnc = 1',
      '4: keymap has no effect without vnc = 1 or sdl = 1',
    ]);
  });
});

describe('errors, each at its assignment', () => {
  test.each<[string, string]>([
    ['memory = "abc"', 'dom.cfg:2:1: memory must be a whole number of MiB, got "abc"'],
    ['memory = 1.5', 'dom.cfg:2:1: memory must be a whole number of MiB, got 1.5'],
    ['memory = 512.0', 'dom.cfg:2:1: memory must be a whole number of MiB, got 512.0'],
    ['memory = True', 'dom.cfg:2:1: memory must be a whole number of MiB, got True'],
    ['memory = [512]', 'dom.cfg:2:1: memory must be a whole number of MiB, got [ 512 ]'],
    ['memory = 8', 'dom.cfg:2:1: memory must be between 16 and 1048576 MiB, got 8'],
    ['memory = 2000000', 'dom.cfg:2:1: memory must be between 16 and 1048576 MiB, got 2000000'],
    ['memory = -1', 'dom.cfg:2:1: memory must be between 16 and 1048576 MiB, got -1'],
    ['maxmem = 64', 'dom.cfg:2:1: maxmem (64 MiB) must be at least memory (128 MiB)'],
    ['vcpus = 0', 'dom.cfg:2:1: vcpus must be between 1 and 255, got 0'],
    ['vcpus = 256', 'dom.cfg:2:1: vcpus must be between 1 and 255, got 256'],
    ['vcpus = "two"', 'dom.cfg:2:1: vcpus must be a whole number, got "two"'],
    ['maxvcpus = 0', 'dom.cfg:2:1: maxvcpus must be between 1 and 255, got 0'],
    ['cpus = "0-3,x"', `dom.cfg:2:1: cpus "0-3,x": 'x' is not a cpu number, range (0-3) or exclusion (^1)`],
    ['cpus = "3-1"', `dom.cfg:2:1: cpus "3-1": the range '3-1' runs backwards`],
    ['cpus = "^1"', 'dom.cfg:2:1: cpus "^1" only excludes cpus; name the ones to use too, as in "0-3,^1"'],
    ['cpus = "0-5000"', 'dom.cfg:2:1: cpus "0-5000": cpu 5000 is beyond 4095'],
    ['cpus = ""', `dom.cfg:2:1: cpus "": '' is not a cpu number, range (0-3) or exclusion (^1)`],
    ['cpus = -1', `dom.cfg:2:1: cpus "-1": '-1' is not a cpu number, range (0-3) or exclusion (^1)`],
    ['cpus = ["1", "2"]', 'dom.cfg:2:1: cpus as a list (per-vcpu pinning) is not supported; write one string such as "0-3,^1"'],
    ['builder = "pv"', 'dom.cfg:2:1: builder must be "linux" or "hvm", got "pv"'],
    ['kernel = "vmlinuz"', 'dom.cfg:2:1: kernel must be an absolute path (starting with /), got "vmlinuz"'],
    ['kernel = "/boot/vmlinux\\n-device"', 'dom.cfg:2:1: kernel must not contain a newline or other control character'],
    ['kernel = 5', 'dom.cfg:2:1: kernel must be a string, got 5'],
    ['ramdisk = "initrd.gz"', 'dom.cfg:2:1: ramdisk must be an absolute path (starting with /), got "initrd.gz"'],
    ['bootloader = "py grub"', 'dom.cfg:2:1: bootloader must be an absolute path or a program name such as "pygrub", got "py grub"'],
    ['extra = "a\\0b"', 'dom.cfg:2:1: extra must not contain a newline or other control character'],
    // A newline in the kernel command line once made a definition that saved and could not start.
    ['extra = "quiet\\ninit=/bin/sh"', 'dom.cfg:2:1: extra must not contain a newline or other control character'],
    ['root = "/dev/xvda1\\t"', 'dom.cfg:2:1: root must not contain a newline or other control character'],
    ['root = ["/dev/xvda1"]', 'dom.cfg:2:1: root must be a string, got [ "/dev/xvda1" ]'],
    ['bootargs = "--x\\x00"', 'dom.cfg:2:1: bootargs must not contain a newline or other control character'],
    ['boot = "cx"', 'dom.cfg:2:1: boot may only contain the letters a (floppy), c (disk), d (cdrom) and n (network), got "cx"'],
    ['boot = ""', 'dom.cfg:2:1: boot may only contain the letters a (floppy), c (disk), d (cdrom) and n (network), got ""'],
    ['acpi = 2', 'dom.cfg:2:1: acpi must be True, False, 1 or 0, got 2'],
    ['usb = "maybe"', 'dom.cfg:2:1: usb must be True, False, 1 or 0, got "maybe"'],
    ['on_poweroff = "explode"', 'dom.cfg:2:1: on_poweroff must be one of destroy, restart, preserve, rename-restart, got "explode"'],
    [
      'on_reboot = "coredump-restart"',
      'dom.cfg:2:1: on_reboot must be one of destroy, restart, preserve, rename-restart (coredump actions are only for on_crash), got "coredump-restart"',
    ],
    [
      'on_crash = "reboot"',
      'dom.cfg:2:1: on_crash must be one of destroy, restart, preserve, rename-restart, coredump-destroy, coredump-restart, got "reboot"',
    ],
    ['uuid = "not-a-uuid"', 'dom.cfg:2:1: uuid "not-a-uuid" must look like 06ed00fe-1162-4fc4-b5d8-11993ee4a8b9'],
    ['uuid = "00000000-0000-0000-0000-000000000000"', "dom.cfg:2:1: uuid 00000000-0000-0000-0000-000000000000 is Domain-0's; remove uuid to get a random one"],
    [
      'disk = ["iscsi:iqn.x,xvda,w"]',
      `dom.cfg:2:1: disk entry 1 "iscsi:iqn.x,xvda,w": disk backend 'iscsi:' is not supported; use phy:, file:, tap:aio:/tap:qcow2: or nbd:`,
    ],
    ['disk = 5', 'dom.cfg:2:1: disk must be a list of strings such as [ "phy:/dev/vg/lv,xvda,w" ], got 5'],
    ['disk = ["file:/a,xvda,w", 7]', 'dom.cfg:2:1: disk entry 2 must be a string such as "phy:/dev/vg/lv,xvda,w", got 7'],
    ['disk = ["file:/a,xvda1,w", "file:/b,xvda,w"]', 'dom.cfg:2:1: disk entries 1 and 2 both use vdev xvda; each needs its own'],
    ['vif = ["mac=01:00:5e:00:00:01"]', `dom.cfg:2:1: vif entry 1 "mac=01:00:5e:00:00:01": mac '01:00:5e:00:00:01' is a multicast address (the low bit of its first byte is set); a NIC needs a unicast one such as 00:16:3e:12:34:56`],
    ['vif = ["mac=00:16:3e:00:00:01", "mac=00:16:3E:00:00:01"]', 'dom.cfg:2:1: vif entries 1 and 2 both use mac 00:16:3e:00:00:01; each needs its own'],
    ['vif = ["vifname=a", "vifname=a"]', 'dom.cfg:2:1: vif entries 1 and 2 both use vifname a; each needs its own'],
    ['vif = [["bridge=x"]]', 'dom.cfg:2:1: vif entry 1 must be a string such as "bridge=xenbr0", got [ "bridge=x" ]'],
    ['vfb = ["vnc=1,keymap=xx-yyy"]', `dom.cfg:2:1: vfb entry 1 "vnc=1,keymap=xx-yyy": keymap 'xx-yyy' must look like de, en-us or fr-ch`],
    ['vnc = "on"', 'dom.cfg:2:1: vnc must be True, False, 1 or 0, got "on"'],
    ['vncdisplay = 60000', 'dom.cfg:2:1: vncdisplay must be between 0 and 59635, got 60000'],
    ['vnclisten = "a b"', "dom.cfg:2:1: vnclisten 'a b' must be an IP address or host name"],
    ['vncpasswd = "a,b"', 'dom.cfg:2:1: vncpasswd must not contain a comma'],
    ['keymap = "german"', "dom.cfg:2:1: keymap 'german' must look like de, en-us or fr-ch"],
    ['serial = "pty\\n"', 'dom.cfg:2:1: serial must not contain a newline or other control character'],
    ["pci = ['0000:00:1f.2']", "dom.cfg:2:1: PCI passthrough is not supported; remove 'pci' from the config"],
    ['irq = [7]', "dom.cfg:2:1: PCI passthrough is not supported; remove 'irq' from the config"],
    ["ioports = ['02f8-02ff']", "dom.cfg:2:1: PCI passthrough is not supported; remove 'ioports' from the config"],
  ])('%s', (line, expected) => {
    expect(issueFor(line)).toBe(expected);
  });

  test('an empty pci list is not passthrough', () => {
    expect(load('name = "x"\npci = []\nirq = None').warnings).toEqual([]);
  });

  test.each<[string, string]>([
    ['name = ""', 'dom.cfg:1:1: name must not be empty'],
    [`name = "${'a'.repeat(65)}"`, 'dom.cfg:1:1: name must be at most 64 characters, got 65'],
    ['name = "evil,debug-threads=off"', `dom.cfg:1:1: name "evil,debug-threads=off" may only contain letters, digits, '_', '.' and '-'`],
    ['name = "web 1"', `dom.cfg:1:1: name "web 1" may only contain letters, digits, '_', '.' and '-'`],
    ['name = "wéb"', `dom.cfg:1:1: name "wéb" may only contain letters, digits, '_', '.' and '-'`],
    ['name = "-web"', `dom.cfg:1:1: name "-web" must not start with '-' or '.'`],
    ['name = ".web"', `dom.cfg:1:1: name ".web" must not start with '-' or '.'`],
    ['name = "Domain-0"', 'dom.cfg:1:1: name "Domain-0" is reserved for the host; choose another name'],
    ['name = "a\\nb"', 'dom.cfg:1:1: name must not contain a newline or other control character'],
    ['name = "a\\0b"', 'dom.cfg:1:1: name must not contain a newline or other control character'],
    ['name = 42', 'dom.cfg:1:1: name must be a string, got 42'],
    ['memory = 64', 'dom.cfg:1:1: name is required: add name = "..." to the config (or name=... on the command line)'],
  ])('%s', (text, expected) => {
    expect(issues(text)).toEqual([expected]);
  });

  test('valid names', () => {
    for (const name of ['a', 'web1', 'DomU-1', 'my_vm.example.com', 'a-', '0', 'a'.repeat(64), 'domain-0']) {
      expect(load(`name = "${name}"`).config.name).toBe(name);
    }
  });

  test('every problem is reported at once, in file order, as file:line:col lines', () => {
    const text = ['name = "ok"', 'vcpus = 0', 'memory = "lots"', 'disk = ["nbd:x,xvda,w"]', 'on_reboot = "x"'].join('\n');
    let err: unknown;
    try {
      load(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.name).toBe('ConfigError');
    expect(ce.issues.map((i) => [i.line, i.col])).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    expect(ce.message).toBe(ce.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`).join('\n'));
  });

  test('the later assignment of a repeated key is the one checked and located', () => {
    expect(issues('name = "x"\nmemory = 1\nmemory = 2')).toEqual(['dom.cfg:3:1: memory must be between 16 and 1048576 MiB, got 2']);
    expect(load('name = "x"\nmemory = 1\nmemory = 256').config.memory).toBe(256);
  });

  test('syntax errors come out as XmSyntaxError, not ConfigError', () => {
    expect(() => load("name = __import__('os').system('touch /tmp/pwned')")).toThrow(XmSyntaxError);
  });
});

describe('command-line overrides', () => {
  test('win over the file', () => {
    const { config } = load(fixture('seed.cfg'), ['memory=256', 'name=web1', "disk=['file:/x.img,xvda,w']", 'vif=[]']);
    expect(config.memory).toBe(256);
    expect(config.name).toBe('web1');
    expect(config.disk).toEqual([{ backend: 'file', target: '/x.img', format: 'raw', vdev: 'xvda', devtype: 'disk', access: 'w' }]);
    expect(config.vif).toEqual([]);
    expect(config.maxmem).toBe(512);
  });

  test('xm create /dev/null kernel=... name=... memory=64 works with no file', () => {
    const { config } = loadDomainConfigText('', '/dev/null', ['kernel=/boot/vmlinuz', 'name=web1', 'memory=64']);
    expect(config).toEqual({ ...DEFAULTS, name: 'web1', kernel: '/boot/vmlinuz', memory: 64 });
  });

  test('string-valued keys take the text as typed', () => {
    expect(load('', ['name=0x10']).config.name).toBe('0x10');
    expect(load('', ['name=007']).config.name).toBe('007');
    expect(load('name = "x"', ['extra=root=/dev/xvda1 ro quiet']).config.extra).toBe('root=/dev/xvda1 ro quiet');
    expect(load('name = "x"', ['disk=file:/a.img,xvda,w']).config.disk).toHaveLength(1);
    expect(load('name = "x"', ['acpi=0']).config.acpi).toBe(false);
  });

  test('problems in overrides are located on the command line, after the file', () => {
    expect(issues('name = "x"\nvcpus = 0', ['memory=64', 'name=bad name'])).toEqual([
      'dom.cfg:2:1: vcpus must be between 1 and 255, got 0',
      `<command line>:1:11: name "bad name" may only contain letters, digits, '_', '.' and '-'`,
    ]);
    const { warnings } = load('name = "x"', ['memory=64', 'colour=red']);
    expect(warnings).toEqual([{ file: '<command line>', line: 1, col: 11, message: "unknown key 'colour' ignored" }]);
  });

  test('a malformed override is a syntax error at its column', () => {
    expect(() => load('name = "x"', ['memory=64', 'oops'])).toThrow('<command line>:1:11: "oops" is not var=value');
  });

  test('domainConfigFromXm takes parsed overrides directly', () => {
    const file = parseXm('name = "x"\nmemory = 128\n', 'a.cfg');
    const { config } = domainConfigFromXm(file, [parseOverride('memory=1024', 1)]);
    expect(config.memory).toBe(1024);
  });
});
