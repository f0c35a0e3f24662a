// The install room's pure parts: virt-install's options, install plans (configs, disks, phases),
// the OS catalogue's detection rules, ISO labels, and the file browser's folder restriction.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { findOs, genericOs, listFolder, loadCatalogue, osFromIsoLabel, osFromTreeInfo, osFromUrl, planInstall, probeInstallTree, readIsoLabel, type InstallDescription } from '../../engine/install/index.js';
import { parseVirtInstallArgs } from '../../engine/install/virt-install-args.js';

const tmp = mkdtempSync(join(tmpdir(), 'd0-install-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const facts = (over: Partial<Parameters<typeof planInstall>[1]> = {}) => ({
  os: findOs('debian12')!,
  imagesDir: '/pool',
  existingFormats: [],
  taken: () => false,
  ...over,
});

describe('virt-install options', () => {
  test('a --cdrom install with defaults gets a new disk of the OS size, NAT and VNC', () => {
    const a = parseVirtInstallArgs(['--name', 'vm1', '--memory', '512', '--cdrom', '/isos/x.iso']);
    expect(a.description).toEqual({ name: 'vm1', memory: 512, source: { kind: 'cdrom', path: '/isos/x.iso' }, disks: [{ kind: 'new' }], network: { kind: 'nat' }, graphics: 'vnc' });
    expect(a.autoconsole).toBe(true);
    expect(a.dryRun).toBe(false);
  });

  test('every install method and sub-option form', () => {
    expect(parseVirtInstallArgs(['-n', 'a', '--location', 'http://m/d/', '--extra-args', 'console=ttyS0', '--disk', 'size=8,format=raw,bus=sata']).description).toMatchObject({
      source: { kind: 'location', url: 'http://m/d/', extraArgs: 'console=ttyS0' },
      disks: [{ kind: 'new', sizeGiB: 8, format: 'raw', bus: 'sata' }],
    });
    expect(parseVirtInstallArgs(['--name=a', '--import', '--disk', '/img/a.qcow2']).description).toMatchObject({ source: { kind: 'import' }, disks: [{ kind: 'existing', path: '/img/a.qcow2' }] });
    expect(parseVirtInstallArgs(['--name', 'a', '--boot', 'kernel=/k,initrd=/i,kernel_args=console=ttyS0 quiet', '--graphics', 'none']).description).toMatchObject({
      source: { kind: 'kernel', kernel: '/k', initrd: '/i', args: 'console=ttyS0 quiet' },
      disks: [],
      graphics: 'none',
    });
    expect(parseVirtInstallArgs(['--name', 'a', '--pxe', '--network', 'bridge=xenbr0,model=e1000', '--disk', 'none']).description).toMatchObject({
      source: { kind: 'pxe' },
      disks: [],
      network: { kind: 'bridge', bridge: 'xenbr0', model: 'e1000' },
    });
    expect(parseVirtInstallArgs(['--name', 'a', '--pxe', '--os-variant', 'name=win11']).description.osVariant).toBe('win11');
    const p = parseVirtInstallArgs(['--name', 'a', '--pxe', '--print-config=install']);
    expect([p.printConfig, p.dryRun]).toEqual(['install', true]);
  });

  test('wrong combinations are refused with what to do', () => {
    expect(() => parseVirtInstallArgs(['--cdrom', '/x.iso'])).toThrow('--name is required');
    expect(() => parseVirtInstallArgs(['--name', 'a'])).toThrow(/install method is required/);
    expect(() => parseVirtInstallArgs(['--name', 'a', '--cdrom', '/x', '--pxe'])).toThrow(/only one install method/);
    expect(() => parseVirtInstallArgs(['--name', 'a', '--cdrom', '/x', '--extra-args', 'x'])).toThrow(/--extra-args only works with --location/);
    expect(() => parseVirtInstallArgs(['--name', 'a', '--pxe', '--graphics', 'spice'])).toThrow(/--graphics spice: Dom0 shows guests over VNC/);
    expect(() => parseVirtInstallArgs(['--name', 'a', '--pxe', '--frobnicate'])).toThrow(/unrecognized arguments: --frobnicate/);
  });
});

// Command lines as virt-install's own test suite writes them (virt-manager tests/test_cli.py) and
// as its man page documents the option syntax.
describe('virt-install command lines as its users write them', () => {
  const parse = (line: string) => parseVirtInstallArgs(line.split(' '));

  test('comma sub-options: --memory N,maxmemory=, --vcpus N,maxvcpus=,sockets=,cores=,threads=', () => {
    const a = parse('--name a --pxe --memory 500,maxmemory=1000 --vcpus 2,maxvcpus=4,sockets=1,cores=2,threads=2');
    expect(a.description).toMatchObject({ memory: 500, maxMemory: 1000, vcpus: 2, maxVcpus: 4 });
    expect(a.warnings).toContain('--vcpus sockets/cores/threads: the guest gets 4 vCPUs; Dom0 does not set a CPU topology');
    expect(parse('--name a --pxe --vcpus sockets=2,cores=2').description.vcpus).toBe(4);
    expect(() => parse('--name a --pxe --vcpus 4,sockets=3')).toThrow('--vcpus: sockets=3 make 3 vCPUs, not 4');
    expect(() => parse('--name a --pxe --memory 500,hugepages=off')).toThrow("--memory: unknown or unsupported sub-option 'hugepages'");
  });

  test('--nodisks --pxe, --disk none --livecd, --cdrom with --dry abbreviated as argparse allows', () => {
    expect(parse('--name a --nodisks --pxe').description.disks).toEqual([]);
    const live = parse('--name a --cdrom /isos/live.iso --disk none --livecd --dry');
    expect(live).toMatchObject({ dryRun: true, description: { disks: [], liveCd: true, source: { kind: 'cdrom' } } });
    const plan = planInstall(live.description, facts());
    expect(plan.final.boot).toBe('d');
    expect(plan.install).toBeUndefined();
  });

  test('--file / --file-size, --hvm, --paravirt, --os-type (deprecated, said)', () => {
    const a = parse('--name a --hvm --import --file /img/a.img --file /img/b.img');
    expect(a.description.disks).toEqual([{ kind: 'existing', path: '/img/a.img' }, { kind: 'existing', path: '/img/b.img' }]);
    expect(parse('--name a --pxe --file /img/new.img --file-size 4 --nonsparse').description.disks).toEqual([{ kind: 'new', path: '/img/new.img', sizeGiB: 4 }]);
    expect(parse('--name a --paravirt --import --disk /img/a.img').warnings[0]).toMatch(/^--paravirt: /);
    expect(parse('--name a --pxe --os-variant generic --os-type linux').warnings).toContain('--os-type is deprecated and does nothing (--os-type linux); --os-variant names the OS');
  });

  test('--disk forms: bare path, path=X,size=N outside the pool, bus=, device=cdrom (several), readonly', () => {
    const a = parse('--name a --pxe --disk /img/a.qcow2,bus=sata --disk path=/srv/vm/b.qcow2,size=8,format=qcow2 --disk device=cdrom,path=/isos/1.iso --disk device=cdrom --disk /img/ro.img,readonly=on');
    expect(a.description.disks).toEqual([
      { kind: 'existing', path: '/img/a.qcow2', bus: 'sata' },
      { kind: 'new', path: '/srv/vm/b.qcow2', sizeGiB: 8, format: 'qcow2' },
      { kind: 'cdrom', path: '/isos/1.iso' },
      { kind: 'cdrom' },
      { kind: 'existing', path: '/img/ro.img', readonly: true },
    ]);
    const plan = planInstall(a.description, facts({ existingFormats: ['qcow2', 'raw'] }));
    expect(plan.newDisks).toEqual([{ path: '/srv/vm/b.qcow2', format: 'qcow2', sizeBytes: 8 * 1024 ** 3 }]);
    expect(plan.final.disk.map((d) => `${d.vdev}:${d.devtype}:${d.access}:${d.target}`)).toEqual([
      'sda:disk:w:/img/a.qcow2', 'xvda:disk:w:/srv/vm/b.qcow2', 'xvdb:disk:r:/img/ro.img', 'hdb:cdrom:r:/isos/1.iso', 'hdc:cdrom:r:',
    ]);
    expect(() => planInstall(parse('--name a --pxe --disk path=/srv/x.img,size=1').description, facts({ taken: (p) => p === '/srv/x.img' }))).toThrow(
      '--disk path=/srv/x.img,size=: /srv/x.img already exists; drop size= to use it as it is, or choose a new path',
    );
    expect(() => parse('--name a --pxe --disk size=1,cache=none')).toThrow("--disk: unknown or unsupported sub-option 'cache'");
    expect(() => parse('--name a --pxe --disk device=floppy')).toThrow('--disk device=floppy: use disk or cdrom');
  });

  test('several --network, bridge:NAME and network:NAME forms, --mac RANDOM', () => {
    const a = parse('--name a --pxe --network bridge:mybr0,model=e1000 --network network:default --mac RANDOM --network user,mac=52:54:00:AA:BB:CC');
    expect([a.description.network, ...(a.description.moreNetworks ?? [])]).toEqual([
      { kind: 'bridge', bridge: 'mybr0', model: 'e1000' },
      { kind: 'nat' },
      { kind: 'nat', mac: '52:54:00:aa:bb:cc' },
    ]);
    expect(planInstall(a.description, facts()).final.vif).toHaveLength(3);
  });

  test('--graphics vnc,password=,keymap=,listen=; --autoconsole text|graphical|none; --connect', () => {
    const a = parse('--name a --pxe --graphics vnc,password=foo,keymap=ja,listen=0.0.0.0 --autoconsole text');
    expect(a).toMatchObject({ consoleMode: 'text', autoconsole: true, description: { graphics: 'vnc', vnc: { password: 'foo', keymap: 'ja', listen: '0.0.0.0' } } });
    expect(planInstall(a.description, facts()).final.vfb).toEqual([{ type: 'vnc', vncpasswd: 'foo', keymap: 'ja', vnclisten: '0.0.0.0' }]);
    expect(a.warnings.some((w) => w.startsWith('--graphics port=/listen='))).toBe(true);
    expect(parse('--name a --pxe --autoconsole none').autoconsole).toBe(false);
    expect(parse('--name a --pxe --connect xen:///').description.name).toBe('a');
    expect(() => parse('--name a --pxe --connect qemu:///system')).toThrow(/--connect qemu:\/\/\/system: this virt-install creates domains on this host's Dom0 engine/);
    expect(() => parse('--name a --pxe --autoconsole vnc')).toThrow('--autoconsole vnc: use text, graphical or none');
  });

  test('--boot: uefi refused by name, orders said, kernel= boots directly; --console/--serial pty', () => {
    expect(() => parse('--name a --osinfo generic --boot uefi --disk size=1 --pxe')).toThrow(/^--boot uefi: UEFI firmware is not supported yet/);
    expect(parse('--name a --cdrom /x.iso --boot cdrom,hd,menu=on').warnings[0]).toMatch(/^--boot cdrom,hd,menu=on: the boot order follows the install method/);
    expect(parse('--name a --boot kernel=/k,initrd=/i,kernel_args=console=ttyS0 --console pty,target_type=serial --serial pty').description.source).toEqual({
      kind: 'kernel', kernel: '/k', initrd: '/i', args: 'console=ttyS0',
    });
    expect(() => parse('--name a --pxe --serial tcp,host=:4444')).toThrow(/^--serial tcp,host=:4444: the guest has one serial port/);
  });
});

describe('install plans', () => {
  const base: InstallDescription = { name: 'vm1', source: { kind: 'cdrom', path: '/isos/d.iso' }, disks: [{ kind: 'new' }], network: { kind: 'nat' }, graphics: 'vnc' };

  test('--cdrom: two phases, the OS recommendations, a qcow2 disk named after the domain', () => {
    const plan = planInstall(base, facts());
    expect(plan.newDisks).toEqual([{ path: '/pool/vm1.qcow2', format: 'qcow2', sizeBytes: 20 * 1024 ** 3 }]);
    expect(plan.final).toMatchObject({ memory: 1024, vcpus: 2, builder: 'hvm', boot: 'cd', on_reboot: 'restart', vif: [{ model: 'virtio' }], vfb: [{ type: 'vnc' }] });
    expect(plan.final.disk.map((d) => `${d.vdev}:${d.devtype}:${d.format}`)).toEqual(['xvda:disk:qcow2', 'hda:cdrom:raw']);
    expect(plan.install).toMatchObject({ boot: 'dc', on_reboot: 'destroy' });
  });

  test('a taken image name gets a suffix; sata disks and the CD-ROM do not share a port letter', () => {
    const plan = planInstall(
      { ...base, disks: [{ kind: 'new', sizeGiB: 1, bus: 'sata', format: 'raw' }, { kind: 'new', sizeGiB: 2, bus: 'sata' }] },
      facts({ taken: (p) => p === '/pool/vm1.raw' }),
    );
    expect(plan.newDisks.map((d) => d.path)).toEqual(['/pool/vm1-1.raw', '/pool/vm1.qcow2']);
    expect(plan.final.disk.map((d) => d.vdev)).toEqual(['sda', 'sdb', 'hdc']);
  });

  test('--location boots the fetched installer once; the definition boots the disk', () => {
    const plan = planInstall(
      { ...base, source: { kind: 'location', url: 'http://m/', extraArgs: 'priority=low' } },
      facts({ bootFiles: { kernel: '/data/boot/vm1/linux', initrd: '/data/boot/vm1/initrd' } }),
    );
    expect(plan.install).toMatchObject({ kernel: '/data/boot/vm1/linux', ramdisk: '/data/boot/vm1/initrd', extra: 'priority=low', on_reboot: 'destroy' });
    expect(plan.final.kernel).toBeUndefined();
    expect(plan.final.boot).toBe('c');
  });

  test('one-phase installs: --import and --boot kernel=', () => {
    const imp = planInstall({ ...base, source: { kind: 'import' }, disks: [{ kind: 'existing', path: '/img/a' }] }, facts({ existingFormats: ['qcow2'] }));
    expect(imp.install).toBeUndefined();
    expect(imp.final.disk).toEqual([{ backend: 'tap', target: '/img/a', format: 'qcow2', vdev: 'xvda', devtype: 'disk', access: 'w' }]);
    const kern = planInstall({ ...base, source: { kind: 'kernel', kernel: '/k', args: 'quiet' }, disks: [], graphics: 'none' }, facts());
    expect(kern.final).toMatchObject({ builder: 'linux', kernel: '/k', extra: 'quiet', nographic: true, vfb: [] });
  });

  test('bad descriptions are refused', () => {
    expect(() => planInstall({ ...base, name: '../etc' }, facts())).toThrow(/--name/);
    expect(() => planInstall({ ...base, name: 'Domain-0' }, facts())).toThrow(/host/);
    expect(() => planInstall({ ...base, source: { kind: 'import' }, disks: [{ kind: 'new' }] }, facts())).toThrow(/--import needs an existing disk/);
    expect(() => planInstall({ ...base, network: { kind: 'bridge', bridge: 'br0;rm -rf' } }, facts())).toThrow(/not a bridge name/);
    expect(() => planInstall({ ...base, source: { kind: 'pxe' }, network: { kind: 'none' } }, facts())).toThrow(/--pxe needs a network/);
  });
});

describe('OS catalogue', () => {
  test('has a few dozen entries with sane recommendations and a generic fallback', () => {
    const all = loadCatalogue();
    expect(all.length).toBeGreaterThanOrEqual(30);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(genericOs().id).toBe('generic');
  });

  test('recognises media by ISO label, tree info and mirror URL', () => {
    expect(osFromIsoLabel('Debian 12.5.0 amd64 n')?.id).toBe('debian12');
    expect(osFromIsoLabel('Ubuntu-Server 22.04.4 LTS amd64')?.id).toBe('ubuntu22.04');
    expect(osFromIsoLabel('Fedora-WS-Live-40-1-14')?.id).toBe('fedora40');
    expect(osFromIsoLabel('CCCOMA_X64FRE_EN-US_DV9')?.id).toBe('win11');
    expect(osFromIsoLabel('SOMETHING ELSE')).toBeUndefined();
    expect(osFromTreeInfo('Fedora 39')?.id).toBe('fedora39');
    expect(osFromTreeInfo('Debian GNU/Linux 12.5.0 "Bookworm" - Official amd64 NETINST')?.id).toBe('debian12');
    expect(osFromUrl('http://deb.debian.org/debian/dists/bullseye/main/installer-amd64/')?.id).toBe('debian11');
    expect(osFromUrl('http://archive.ubuntu.com/ubuntu/dists/focal-updates/main/installer-amd64/')?.id).toBe('ubuntu20.04');
  });

  test('reads the volume label of an ISO 9660 image, and nothing from other files', async () => {
    const iso = Buffer.alloc(17 * 2048);
    iso[16 * 2048] = 1;
    iso.write('CD001', 16 * 2048 + 1, 'latin1');
    iso.write('Debian 12.5.0 amd64 n'.padEnd(32), 16 * 2048 + 40, 'latin1');
    writeFileSync(join(tmp, 'a.iso'), iso);
    writeFileSync(join(tmp, 'b.img'), Buffer.alloc(40000));
    expect(await readIsoLabel(join(tmp, 'a.iso'))).toBe('Debian 12.5.0 amd64 n');
    expect(await readIsoLabel(join(tmp, 'b.img'))).toBeUndefined();
  });
});

describe('file browser', () => {
  test('lists folders inside the roots, folders first, and refuses everything outside, links included', async () => {
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'isos'), { recursive: true });
    writeFileSync(join(root, 'a.iso'), 'x');
    symlinkSync('/etc', join(root, 'escape'));
    const top = await listFolder(undefined, [root, '/does/not/exist']);
    expect(top.path).toBe(root);
    expect(top.parent).toBeUndefined();
    expect(top.entries.map((e) => `${e.type}:${e.name}`)).toEqual(['dir:escape', 'dir:isos', 'file:a.iso']);
    expect((await listFolder(join(root, 'isos'), [root])).parent).toBe(root);
    await expect(listFolder(join(root, 'escape'), [root])).rejects.toThrow(/outside the folders/);
    await expect(listFolder('/etc', [root])).rejects.toThrow(/outside the folders/);
    await expect(listFolder('relative/path', [root])).rejects.toThrow(/absolute/);
  });
});

describe('network install trees', () => {
  /** A loopback HTTP server with these files (HEAD and GET), 404 for the rest. */
  async function serve(files: Record<string, string>): Promise<{ url: string; close: () => void }> {
    const server = createServer((req, res) => {
      const body = files[new URL(req.url ?? '/', 'http://x').pathname];
      if (body === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  }

  test('a .treeinfo tree (Fedora) names its kernel, initrd and OS; paths cannot leave the tree', async () => {
    const tree = await serve({
      '/f40/.treeinfo': '[general]\nfamily = Fedora\nversion = 40\n[images-x86_64]\nkernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n',
      '/evil/.treeinfo': '[general]\nfamily = Fedora\nversion = 40\n[images-x86_64]\nkernel = ../../etc/passwd\ninitrd = /x\n',
    });
    try {
      const t = await probeInstallTree(`${tree.url}/f40`);
      expect(t).toMatchObject({ layout: 'treeinfo', kernelUrl: `${tree.url}/f40/images/pxeboot/vmlinuz`, initrdUrl: `${tree.url}/f40/images/pxeboot/initrd.img`, info: 'Fedora 40' });
      expect(t.os?.id).toBe('fedora40');
      await expect(probeInstallTree(`${tree.url}/evil/`)).rejects.toThrow(/no installer kernel and initrd found/);
    } finally {
      tree.close();
    }
  });

  test('a Debian ISO-style tree is recognised by install.amd/ and .disk/info', async () => {
    const tree = await serve({ '/d/install.amd/vmlinuz': 'k', '/d/install.amd/initrd.gz': 'i', '/d/.disk/info': 'Debian GNU/Linux 12.5.0 "Bookworm" - Official amd64 NETINST' });
    try {
      const t = await probeInstallTree(`${tree.url}/d/`);
      expect([t.layout, t.os?.id]).toEqual(['debian-iso', 'debian12']);
    } finally {
      tree.close();
    }
  });

  test('only http(s) URLs are taken', async () => {
    await expect(probeInstallTree('ftp://mirror/debian/')).rejects.toThrow(/only http:\/\/ and https:\/\//);
    await expect(probeInstallTree('/local/dir')).rejects.toThrow(/not a URL/);
  });
});
