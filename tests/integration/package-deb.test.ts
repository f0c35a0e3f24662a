// `npm run dist`'s Debian package, built from this checkout's out/ and installed with dpkg into a
// fresh root made here: the installed bins run (a real xend from the package serves `xm list`),
// the man pages render, lintian finds no error, and the launcher says what to install when QEMU
// is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'd0-deb-'));
const deb = join(work, `dom0_${version}_amd64.deb`);
const root = join(work, 'root');
const home = join(work, 'home');
const env = { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' };
const inRoot = (bin: string, args: string[], extra: NodeJS.ProcessEnv = env) =>
  spawnSync(join(root, 'usr/bin', bin), args, { encoding: 'utf8', env: extra, timeout: 60_000 });

beforeAll(() => {
  // The package is built from out/ as `npm test` leaves it (its build step runs first).
  execFileSync(process.execPath, ['scripts/dist.mjs', '--skip-build', '--deb-only', '--out', work], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // A fresh root with an empty dpkg database and the group files the postinst adds to.
  for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc']) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ['var/lib/dpkg/status', 'var/lib/dpkg/available']) writeFileSync(join(root, file), '');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  // --force-depends: the fresh root has no nodejs/qemu packages (the host's run the bins);
  // --force-script-chrootless: the postinst runs here with DPKG_ROOT set, not chrooted.
  execFileSync('dpkg', ['--root', root, '--force-depends', '--force-script-chrootless', '--log=/dev/null', '-i', deb], { stdio: ['ignore', 'ignore', 'inherit'] });
}, 900_000);

afterAll(() => {
  spawnSync(join(root, 'usr/bin/xend'), ['stop'], { env });
  rmSync(work, { recursive: true, force: true });
});

describe('the .deb', () => {
  test('is named and declared as the issue asks', () => {
    const info = execFileSync('dpkg-deb', ['-f', deb], { encoding: 'utf8' });
    expect(info).toMatch(/^Package: dom0$/m);
    expect(info).toMatch(new RegExp(`^Version: ${version.replace(/\./g, '\\.')}$`, 'm'));
    expect(info).toMatch(/^Architecture: amd64$/m);
    expect(info).toMatch(/^Depends: nodejs \(>= 20\), qemu-system-x86, qemu-utils/m);
    expect(info).toMatch(/^Recommends: ovmf, chromium$/m);
  });

  test('holds the bins, man pages, units, desktop entry, AppStream data and icons', () => {
    const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' });
    for (const bin of ['xm', 'xend', 'virt-install', 'xenstore-read', 'xenstore-write', 'xenstore-ls', 'dom0']) expect(files).toMatch(new RegExp(` \\./usr/bin/${bin} -> \\.\\./lib/dom0/`));
    for (const path of [
      'usr/lib/dom0/out/renderer/index.html', 'usr/lib/dom0/node_modules/ws/package.json',
      'usr/share/man/man1/xm.1.gz', 'usr/share/man/man5/xmdomain.cfg.5.gz', 'usr/share/man/man1/virt-install.1.gz',
      'lib/systemd/system/xend.service', 'usr/lib/systemd/user/xend.service',
      'usr/share/applications/dom0.desktop', 'usr/share/metainfo/dom0.metainfo.xml',
      'usr/share/icons/hicolor/scalable/apps/dom0.svg', 'usr/share/icons/hicolor/48x48/apps/dom0.png', 'usr/share/icons/hicolor/256x256/apps/dom0.png',
    ]) expect(files).toContain(` ./${path}`);
  });

  test('installs: dpkg knows it and the postinst added the dom0 group', () => {
    expect(execFileSync('dpkg', ['--root', root, '-s', 'dom0'], { encoding: 'utf8' })).toMatch(/^Status: install ok installed$/m);
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^dom0:x:\d+:$/m);
  });

  test('lintian reports no errors', () => {
    const result = spawnSync('lintian', [deb], { encoding: 'utf8', timeout: 300_000 });
    expect(result.stdout.split('\n').filter((l) => l.startsWith('E:'))).toEqual([]);
    expect(result.status).toBe(0);
  }, 300_000);
});

describe('the installed files', () => {
  test('xm help, xend --version and dom0 --help run from the fresh root', () => {
    const xm = inRoot('xm', ['help']);
    expect(xm.stdout).toMatch(/^Usage: xm <subcommand> \[args\]/);
    expect(xm.stdout).toMatch(/^ {2}create {10}Create a domain based on <ConfigFile>\./m);
    expect(inRoot('xend', ['--version']).stdout).toBe(`xend (Dom0) ${version}\n`);
    const dom0 = inRoot('dom0', ['--help']);
    expect(dom0.status).toBe(0);
    expect(dom0.stdout).toMatch(/^Usage: dom0 \[--web HOST:PORT\]/);
  });

  test("the installed xend serves the installed xm (the engine's npm modules are all packaged)", () => {
    const started = inRoot('xend', ['start']);
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/^xend started \(pid \d+\)/);
    const list = inRoot('xm', ['list']);
    expect(list.stdout).toMatch(/^Name +ID +Mem VCPUs +State +Time\(s\)\nDomain-0 +0 /);
  }, 120_000);

  test('the man pages render, made from the same text as --help', () => {
    const man = (page: string) => execFileSync('man', ['-l', join(root, 'usr/share/man', page)], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } });
    const xm = man('man1/xm.1.gz');
    expect(xm).toMatch(/^XM\(1\) +Dom0 +XM\(1\)/);
    // Each subcommand's section is its `xm help <command>` text.
    const createHelp = inRoot('xm', ['help', 'create']).stdout.trim().split('\n');
    for (const line of createHelp) expect(xm).toContain(line.trim());
    const virtInstall = man('man1/virt-install.1.gz');
    expect(virtInstall).toContain('--cdrom, -c PATH');
    for (const line of inRoot('virt-install', ['--help']).stdout.trim().split('\n').slice(1)) expect(virtInstall).toContain(line.trim());
    const cfg = man('man5/xmdomain.cfg.5.gz');
    expect(cfg).toMatch(/^XMDOMAIN\.CFG\(5\)/);
    expect(cfg).toMatch(/vif = \['bridge=xenbr0,…'\]/);
  });

  test('the launcher on a host without QEMU says what to install', () => {
    // A PATH with node and nothing else: qemu-system-x86_64 is not found.
    const bin = join(work, 'bin-without-qemu');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'));
    const result = inRoot('dom0', [], { PATH: bin, HOME: home, DOM0_HOME: home, DOM0_ELECTRON_APP: '/nonexistent' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^dom0: QEMU \(qemu-system-x86_64\) was not found; .*apt-get install qemu-system-x86/);
  });
});
