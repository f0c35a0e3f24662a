// virt-install as a user runs it: a real xend (started with `xend start`), real install media built
// by tests/fixtures/build-install-media.sh (a grub-mkrescue ISO of the test guest, a Debian mirror
// tree holding the real Debian installer), real guests under TCG. Waits are on the guests' serial
// output, bounded generously: other engineers' guests share these 2 cores.

import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { GUEST_INITRD, GUEST_KERNEL, READY, requireGuest, stopXenstored } from './helpers/engine.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const CLI = (name: string) => join(root, 'out/engine/cli', `${name}.js`);
const MEDIA = join(root, 'tests/fixtures/cache/install');
const ISO = join(MEDIA, 'guest.iso');
const DEBIAN_TREE = join(MEDIA, 'debian-tree');
// Per wait; the tests that wait for several boots set their own test timeout (300 s).
const BOOT_TIMEOUT = 120_000;

let home: string;
let env: NodeJS.ProcessEnv;

async function cmd(name: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI(name), ...args], { env, cwd: home });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const virtInstall = (...args: string[]) => cmd('virt-install', ...args);
const xm = (...args: string[]) => cmd('xm', ...args);
const serialLog = (name: string) => join(home, 'run/domains', name, 'serial.log');

/** Poll the domain's serial log until it matches (the log is the guest's console, written by QEMU). */
async function waitForSerial(name: string, pattern: RegExp, timeoutMs = BOOT_TIMEOUT): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(serialLog(name)) ? readFileSync(serialLog(name), 'latin1') : '';
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${name}: no ${pattern} on the serial console within ${timeoutMs} ms; got:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitForList(name: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = (await xm('list')).stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    if (pattern.test(line)) return line;
    if (Date.now() > deadline) throw new Error(`xm list: ${name} never matched ${pattern}; last: ${line}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function images(): string[] {
  const dir = join(home, 'data/images');
  return existsSync(dir) ? readdirSync(dir) : [];
}

beforeAll(async () => {
  requireGuest();
  if (!existsSync(ISO) || !existsSync(DEBIAN_TREE)) throw new Error('install media missing: run tests/fixtures/build-install-media.sh (npm run test:integration does)');
  home = mkdtempSync('/tmp/d0vi-');
  env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
  const started = await cmd('xend', 'start');
  expect(started.code, started.stderr).toBe(0);
});

afterAll(async () => {
  if (!home) return;
  const list = await xm('list');
  for (const line of list.stdout.split('\n').slice(2)) {
    const [name, id] = line.split(/\s+/);
    if (name && id && /^\d+$/.test(id)) await xm('destroy', name);
  }
  await cmd('xend', 'stop');
  stopXenstored(home);
  rmSync(home, { recursive: true, force: true });
});

describe('virt-install', () => {
  test('--cdrom: an ISO made by grub-mkrescue boots to the guest; the installer reboot starts the definition from disk', async () => {
    const r = await virtInstall('--name', 'iso1', '--memory', '128', '--cdrom', ISO, '--disk', 'size=1', '--graphics', 'none', '--noautoconsole');
    expect(r.code, r.stderr).toBe(0);
    // The OS catalogue recognised the ISO by its volume label.
    expect(r.stdout).toContain('Using OS dom0-testguest');
    expect(r.stdout).toContain('from iso label "DOM0_GUEST"');
    await waitForSerial('iso1', READY);
    expect(images()).toContain('iso1.qcow2');
    const def = readFileSync(join(home, 'config/domains/iso1.cfg'), 'utf8');
    expect(def).toContain(`tap:qcow2:${join(home, 'data/images/iso1.qcow2')},xvda,w`);
    expect(def).toContain(`file:${ISO},hda:cdrom,r`);
    expect(def).toContain('boot = "cd"');
    const info = await run('qemu-img', ['info', '--output=json', '-U', join(home, 'data/images/iso1.qcow2')]);
    expect(JSON.parse(info.stdout)).toMatchObject({ format: 'qcow2', 'virtual-size': 1024 ** 3 });
    // The installer's reboot ends the install phase (on_reboot = "destroy"); the definition starts next.
    const before = await waitForList('iso1', /^iso1\s+(\d+)/);
    const firstId = Number(/^iso1\s+(\d+)/.exec(before)![1]);
    expect((await xm('sysrq', 'iso1', 'b')).code).toBe(0);
    const after = await waitForList('iso1', new RegExp(`^iso1\\s+(?!${firstId}\\s)\\d+\\s`));
    expect(after).toMatch(/^iso1\s+\d+\s+128\s+1\s/);
    const log = (await xm('log')).stdout;
    expect(log).toMatch(/install of iso1 finished; started it from its disk/);
    await xm('destroy', 'iso1');
  }, 300_000);

  test('--import: an existing qcow2 image (format detected) boots', async () => {
    const image = join(home, 'imported.qcow2');
    await run('qemu-img', ['convert', '-O', 'qcow2', ISO, image]);
    const r = await virtInstall('--name', 'imp1', '--memory', '128', '--import', '--disk', `path=${image}`, '--graphics', 'none', '--noautoconsole', '--os-variant', 'generic');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Domain creation completed');
    const def = readFileSync(join(home, 'config/domains/imp1.cfg'), 'utf8');
    expect(def).toContain(`tap:qcow2:${image},sda,w`);
    expect(def).toContain('boot = "c"');
    await waitForSerial('imp1', READY);
    await xm('destroy', 'imp1');
  }, 300_000);

  test('--boot kernel=: direct kernel boot; --print-config writes a file xm create starts', async () => {
    const boot = `kernel=${GUEST_KERNEL},initrd=${GUEST_INITRD},kernel_args=console=ttyS0 panic=0 quiet`;
    const printed = await virtInstall('--name', 'kern1', '--memory', '128', '--boot', boot, '--graphics', 'none', '--print-config');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain(`kernel = "${GUEST_KERNEL}"`);
    expect(printed.stdout).toContain('extra = "console=ttyS0 panic=0 quiet"');
    // --print-config creates nothing.
    expect(existsSync(join(home, 'config/domains/kern1.cfg'))).toBe(false);
    writeFileSync(join(home, 'kern1.cfg'), printed.stdout);
    const created = await xm('create', join(home, 'kern1.cfg'));
    expect(created.code, created.stderr).toBe(0);
    await waitForSerial('kern1', READY);
    await xm('destroy', 'kern1');

    const r = await virtInstall('--name', 'kern2', '--memory', '128', '--boot', boot, '--graphics', 'none', '--noautoconsole');
    expect(r.code, r.stderr).toBe(0);
    await waitForSerial('kern2', READY);
    await xm('destroy', 'kern2');
  }, 300_000);

  test('--location: the real Debian installer is fetched from an HTTP mirror tree and starts', async () => {
    // A local mirror: serves files under the tree (HEAD and GET), nothing else.
    const server: Server = createServer((req, res) => {
      const path = normalize(join(DEBIAN_TREE, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      if (!path.startsWith(DEBIAN_TREE) || !existsSync(path) || !statSync(path).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': statSync(path).size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(path).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dists/bookworm/main/installer-amd64/`;
    try {
      const dry = await virtInstall('--name', 'deb1', '--location', url, '--extra-args', 'console=ttyS0', '--disk', 'size=2', '--graphics', 'none', '--dry-run');
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('Using OS debian12');
      expect(existsSync(join(home, 'data/boot/deb1'))).toBe(false);

      const r = await virtInstall('--name', 'deb1', '--location', url, '--extra-args', 'console=ttyS0', '--disk', 'size=2', '--graphics', 'none', '--noautoconsole');
      expect(r.code, r.stderr).toBe(0);
      expect(statSync(join(home, 'data/boot/deb1/linux')).size).toBe(statSync(join(DEBIAN_TREE, 'dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux')).size);
      // The installer's kernel boots its initrd and debconf's newt frontend draws its first dialog.
      const text = await waitForSerial('deb1', /<Tab> moves; <Space> selects; <Enter> activates buttons/, 240_000);
      expect(text).toMatch(/Debian|debian-installer|\[!!?\]/);
      // The definition is the installed system: it boots from the disk, not the installer.
      const def = readFileSync(join(home, 'config/domains/deb1.cfg'), 'utf8');
      expect(def).not.toContain('kernel =');
      expect(def).toContain('boot = "c"');
      await xm('destroy', 'deb1');
      // The installer files go with the install phase.
      for (let i = 0; i < 100 && existsSync(join(home, 'data/boot/deb1')); i++) await new Promise((r2) => setTimeout(r2, 100));
      expect(existsSync(join(home, 'data/boot/deb1'))).toBe(false);
    } finally {
      server.close();
    }
  }, 300_000);

  test('customize before install: the definition runs the installer when started, then becomes the installed system', async () => {
    const client = await connectUnix(join(home, 'run/xend.sock'), xendMethods);
    try {
      const result = await client.call('install.create', {
        description: { name: 'cust1', memory: 128, source: { kind: 'cdrom', path: ISO }, disks: [{ kind: 'new', sizeGiB: 1 }], network: { kind: 'nat' }, graphics: 'none', start: false },
      });
      expect(result.phase).toBe('defined');
    } finally {
      await client.close();
    }
    const cfg = () => readFileSync(join(home, 'config/domains/cust1.cfg'), 'utf8');
    expect(cfg()).toContain('boot = "dc"');
    // The user's customization (here: more memory) survives into the installed system.
    writeFileSync(join(home, 'config/domains/cust1.cfg'), cfg().replace('memory = 128', 'memory = 160'));
    expect((await xm('start', 'cust1')).code).toBe(0);
    await waitForSerial('cust1', READY);
    const first = Number(/^cust1\s+(\d+)/.exec(await waitForList('cust1', /^cust1\s+\d+/))![1]);
    expect((await xm('sysrq', 'cust1', 'b')).code).toBe(0);
    await waitForList('cust1', new RegExp(`^cust1\\s+(?!${first}\\s)\\d+\\s+160\\s`));
    expect(cfg()).toContain('boot = "cd"');
    expect(cfg()).toContain('memory = 160');
    expect(cfg()).not.toContain('on_reboot');
    expect(existsSync(join(home, 'config/domains/.cust1.install.json'))).toBe(false);
    await xm('destroy', 'cust1');
  }, 300_000);

  test('refusals happen before anything is written; a failed start removes what was made', async () => {
    const before = images();
    const clash = await virtInstall('--name', 'kern2', '--boot', `kernel=${GUEST_KERNEL}`, '--noautoconsole');
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/ERROR +Domain 'kern2' already exists/);

    const unreadable = await virtInstall('--name', 'bad1', '--cdrom', '/nonexistent/x.iso', '--noautoconsole');
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toContain('--cdrom /nonexistent/x.iso does not exist');

    const huge = await virtInstall('--name', 'bad2', '--cdrom', ISO, '--disk', 'size=60000', '--noautoconsole');
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/the new disks need 60000\.0 GiB but .* GiB free/);

    // Everything checks out, then the start fails (no such bridge): the disk and definition go.
    const failed = await virtInstall('--name', 'bad3', '--memory', '128', '--cdrom', ISO, '--disk', 'size=1', '--network', 'bridge=nosuchbr9', '--noautoconsole');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/nosuchbr9/);
    expect(images()).toEqual(before);
    for (const name of ['bad1', 'bad2', 'bad3']) expect(existsSync(join(home, 'config/domains', `${name}.cfg`))).toBe(false);
  });
});
