// scripts/host-deps.mjs: what the app and the tests need from the host, how it tells what is
// missing, and the one command it prints for each distribution. The checks run against real
// temporary directories; the CLI is run for real with a PATH that hides the host's tools.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { NEEDS } from '../../scripts/host-deps.mjs';
import { installCommand, isPresent, manualInstructions, missingNeeds, packageFamily, packagesFor, parseOsRelease, type Need } from '../../scripts/lib/host-deps.mjs';
import { withQemuSettings } from '../../scripts/lib/libvirtd.mjs';
import { electronBinary } from '../../scripts/lib/electron-binary.mjs';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'd0-hostdeps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OS_RELEASES: Record<string, string> = {
  debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu24: 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
  mint: 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
  fedora41: 'NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\n',
  rocky9: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
  arch: 'NAME="Arch Linux"\nID=arch\n',
  manjaro: "NAME='Manjaro Linux'\nID=manjaro\nID_LIKE=arch\n",
  alpine: 'NAME="Alpine Linux"\nID=alpine\n',
};

describe('which distribution', () => {
  test.each([
    ['debian12', 'apt'], ['ubuntu24', 'apt'], ['mint', 'apt'],
    ['fedora41', 'dnf'], ['rocky9', 'dnf'],
    ['arch', 'pacman'], ['manjaro', 'pacman'],
    ['alpine', undefined],
  ])('%s uses %s', (name, family) => {
    expect(packageFamily(parseOsRelease(OS_RELEASES[name]!))).toBe(family);
  });

  test('os-release values lose their quotes', () => {
    expect(parseOsRelease(OS_RELEASES.manjaro!)).toMatchObject({ NAME: 'Manjaro Linux', ID: 'manjaro', ID_LIKE: 'arch' });
  });
});

describe('what is present', () => {
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(join(bin, 'tool'), '#!/bin/sh\n');
  chmodSync(join(bin, 'tool'), 0o755);
  writeFileSync(join(bin, 'not-executable'), '');

  test('a command is found on PATH only when executable', () => {
    expect(isPresent('cmd:tool', { path: `/nonexistent:${bin}` })).toBe(true);
    expect(isPresent('cmd:not-executable', { path: bin })).toBe(false);
    expect(isPresent('cmd:tool', { path: '/nonexistent' })).toBe(false);
  });

  test('daemons in sbin are found even when PATH lacks sbin', () => {
    expect(isPresent('cmd:ldconfig', { path: '/nonexistent' })).toBe(true); // /sbin/ldconfig (libc-bin, Essential)
  });

  test('alternatives: any one is enough', () => {
    expect(isPresent(`file:/nonexistent/a | file:${join(bin, 'not-executable')}`, { path: '' })).toBe(true);
    expect(isPresent('cmd:nope-1 | cmd:nope-2 | file:/nonexistent', { path: bin })).toBe(false);
  });

  test('a malformed check is an error, not "missing"', () => {
    expect(() => isPresent('binary:qemu', { path: '' })).toThrow(/unknown check "binary:qemu"/);
  });
});

const fake = (over: Partial<Need>): Need => ({ part: 'test', present: 'cmd:x', apt: 'x', dnf: 'x', pacman: 'x', why: 'x', ...over });

describe('what is missing, and the command that installs it', () => {
  const needs = [
    fake({ part: 'app', present: 'cmd:qemu', apt: 'qemu-system-x86', dnf: 'qemu-system-x86', pacman: 'qemu-system-x86', why: 'runs the domains' }),
    fake({ part: 'test', present: 'cmd:virsh', apt: 'libvirt-clients', dnf: 'libvirt-client', pacman: 'libvirt', why: 'virsh' }),
    fake({ part: 'test', present: 'cmd:libvirtd', apt: 'libvirt-daemon', dnf: 'libvirt-daemon', pacman: 'libvirt', why: 'libvirtd' }),
    fake({ part: 'test', present: 'cmd:apt-get', apt: 'apt', dnf: null, pacman: null, why: 'the test guest' }),
  ];
  const nothing = () => false;

  test('the app part asks only for the app; the test part for both', () => {
    expect(missingNeeds(needs, 'app', nothing).map((n) => n.apt)).toEqual(['qemu-system-x86']);
    expect(missingNeeds(needs, 'test', nothing)).toHaveLength(4);
    expect(missingNeeds(needs, 'test', () => true)).toEqual([]);
  });

  test('one package is named once even when it covers several needs', () => {
    expect(packagesFor(needs, 'pacman')).toEqual({ packages: ['qemu-system-x86', 'libvirt'], unavailable: [needs[3]] });
  });

  test.each([
    ['apt', false, 'sudo apt-get update && sudo apt-get install -y --no-install-recommends qemu-system-x86 libvirt-clients'],
    ['apt', true, 'apt-get update && apt-get install -y --no-install-recommends qemu-system-x86 libvirt-clients'],
    ['dnf', false, 'sudo dnf install -y qemu-system-x86 libvirt-clients'],
    ['pacman', false, 'sudo pacman -S --needed qemu-system-x86 libvirt-clients'],
  ] as const)('%s (root: %s)', (family, root, command) => {
    expect(installCommand(family, ['qemu-system-x86', 'libvirt-clients'], { root })).toBe(command);
  });

  test('Fedora: the dnf command, and what no Fedora package provides', () => {
    const text = manualInstructions({ missing: missingNeeds(needs, 'test', nothing), family: 'dnf', root: false, part: 'test' });
    expect(text).toContain('\n  sudo dnf install -y qemu-system-x86 libvirt-client libvirt-daemon\n');
    expect(text).toMatch(/No dnf package provides cmd:apt-get \(the test guest\): the tests need a Debian or Ubuntu host for it\./);
  });

  test('an unknown distribution gets the Debian names to look for', () => {
    const text = manualInstructions({ missing: missingNeeds(needs, 'app', nothing), family: undefined, root: false, part: 'app' });
    expect(text).toBe('Dom0 needs from this host: qemu-system-x86 (runs the domains).\nThis distribution is not one host-deps knows (Debian/Ubuntu, Fedora, Arch): install the equivalents of these Debian packages.');
  });
});

describe('the table', () => {
  test('every need says why, how to check it, and its Debian package', () => {
    for (const need of NEEDS) {
      expect(need.why.length, need.present).toBeGreaterThan(5);
      expect(need.apt, need.present).toMatch(/^[a-z0-9][a-z0-9.+-]+$/);
      for (const alt of need.present.split('|')) expect(alt.trim(), need.apt ?? '').toMatch(/^(cmd:[\w.+-]+|file:\/\S+)$/);
    }
  });

  test('the brief\'s host needs are all in the test part', () => {
    const apt = NEEDS.filter((n) => n.part === 'test').map((n) => n.apt);
    for (const pkg of ['libvirt-daemon', 'libvirt-daemon-driver-qemu', 'libvirt-clients', 'openssh-server', 'openssh-client', 'ovmf', 'osinfo-db', 'netcat-openbsd', 'chromium', 'xorriso']) expect(apt).toContain(pkg);
    expect(NEEDS.filter((n) => n.part === 'app').map((n) => n.apt)).toEqual(['qemu-system-x86', 'qemu-utils', 'iproute2']);
  });
});

describe('the command', () => {
  const hostDeps = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['scripts/host-deps.mjs', ...args], { cwd: ROOT, env, encoding: 'utf8' });

  test('quiet and successful when everything is present (this host has it all)', () => {
    const result = hostDeps(['test', '--check'], process.env);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('--check on a host without QEMU prints the apt command for it and fails', () => {
    // /usr/bin hidden: qemu-system-x86_64, qemu-img and ip (in /usr/bin or /bin here) look absent.
    const result = hostDeps(['app', '--check'], { PATH: join(dir, 'bin') });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Dom0 needs from this host: qemu-system-x86 \(runs the domains\); qemu-utils/);
    expect(result.stderr).toMatch(/Install them with:\n {2}(sudo )?apt-get update && (sudo )?apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils/);
  });

  test('a wrong part is a usage error', () => {
    const result = hostDeps(['everything'], process.env);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/usage: node scripts\/host-deps.mjs app\|test/);
  });
});

describe('libvirtd for the tests (no systemd)', () => {
  const settings = 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nsecurity_driver = "none"\n';

  test('Debian\'s qemu.conf (all commented out) gets the four settings appended', () => {
    expect(withQemuSettings('#user = "libvirt-qemu"\n#security_driver = "selinux"\n')).toBe(`#user = "libvirt-qemu"\n#security_driver = "selinux"\n${settings}`);
  });

  test('set settings are replaced in place, and a second run changes nothing', () => {
    const once = withQemuSettings('vnc_listen = "0.0.0.0"\nsecurity_driver = "apparmor"\nuser = "qemu"');
    expect(once).toBe('vnc_listen = "0.0.0.0"\nsecurity_driver = "none"\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\n');
    expect(withQemuSettings(once)).toBe(once);
  });
});

describe("Electron's binary", () => {
  test('missing here: one line says why, no download is tried when it is switched off', () => {
    const found = electronBinary({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    if ('binary' in found) return expect(found.binary).toMatch(/electron$/); // a machine that has it
    expect(found.reason).toBe("Electron's binary is not installed and ELECTRON_SKIP_BINARY_DOWNLOAD is set");
    // Allowed to download, it tries (here from a mirror that refuses connections, so no unit test
    // ever fetches 100 MB); where that fails the downloader's first line is the reason.
    const tried = electronBinary({ ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: dir });
    if ('binary' in tried) return;
    expect(tried.reason).toMatch(/^Electron's binary could not be downloaded \(\w*Error: .+\)$/);
  });
});
