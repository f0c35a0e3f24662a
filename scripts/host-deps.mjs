#!/usr/bin/env node
// @ts-check
// What Dom0 needs from the host, in one table, and the step that checks and installs it.
//
//   node scripts/host-deps.mjs app     npm start runs this: what the app needs to run domains
//   node scripts/host-deps.mjs test    npm test runs this (pretest): the app's needs, the tests',
//                                      and libvirtd started for the libvirt tests
//   add --check to only report (exit 1 when something is missing, install nothing)
//
// Quiet and fast (a few stat calls) when everything is present. When something is missing it
// installs it with apt-get as root or through `sudo -n`; otherwise it prints the one command to run
// on this distribution and exits 1. A new host need is one line in NEEDS below.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isPresent, manualInstructions, missingNeeds, packageFamily, packagesFor, parseOsRelease } from './lib/host-deps.mjs';
import { ensureLibvirtd } from './lib/libvirtd.mjs';

/** @type {readonly import('./lib/host-deps.mjs').Need[]} */
export const NEEDS = [
  // part, how to tell it is there, the package on Debian/Ubuntu, Fedora, Arch, and why.
  { part: 'app', present: 'cmd:qemu-system-x86_64', apt: 'qemu-system-x86', dnf: 'qemu-system-x86', pacman: 'qemu-system-x86', why: 'runs the domains' },
  { part: 'app', present: 'cmd:qemu-img', apt: 'qemu-utils', dnf: 'qemu-img', pacman: 'qemu-img', why: 'creates and converts disk images' },
  { part: 'app', present: 'cmd:ip', apt: 'iproute2', dnf: 'iproute', pacman: 'iproute2', why: 'attaches domains to bridges' },
  { part: 'test', present: 'cmd:apt-get', apt: 'apt', dnf: null, pacman: null, why: 'the test guest is built from Debian packages fetched with apt-get download' },
  { part: 'test', present: 'cmd:dpkg-deb', apt: 'dpkg', dnf: 'dpkg', pacman: 'dpkg', why: 'unpacks the test guest packages and builds the .deb' },
  { part: 'test', present: 'cmd:cpio', apt: 'cpio', dnf: 'cpio', pacman: 'cpio', why: "packs the test guest's initramfs" },
  { part: 'test', present: 'cmd:xz', apt: 'xz-utils', dnf: 'xz', pacman: 'xz', why: "unpacks the test guest's kernel" },
  { part: 'test', present: 'file:/usr/lib/grub/i386-pc', apt: 'grub-pc-bin', dnf: 'grub2-pc-modules', pacman: 'grub', why: 'boot loader of the install ISO the virt-install tests build' },
  { part: 'test', present: 'cmd:grub-mkrescue | cmd:grub2-mkrescue', apt: 'grub-common', dnf: 'grub2-tools-extra', pacman: 'grub', why: 'builds that install ISO' },
  { part: 'test', present: 'cmd:xorriso', apt: 'xorriso', dnf: 'xorriso', pacman: 'libisoburn', why: 'writes that ISO' },
  { part: 'test', present: 'cmd:mformat', apt: 'mtools', dnf: 'mtools', pacman: 'mtools', why: "writes the ISO's EFI image" },
  { part: 'test', present: 'cmd:chromium | cmd:chromium-browser', apt: 'chromium', dnf: 'chromium', pacman: 'chromium', why: 'the GUI tests drive it (Playwright cannot download a browser here)' },
  { part: 'test', present: 'file:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf | file:/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf | file:/usr/share/fonts/TTF/DejaVuSans.ttf', apt: 'fonts-dejavu-core', dnf: 'dejavu-sans-fonts', pacman: 'ttf-dejavu', why: 'text in the GUI screenshots' },
  { part: 'test', present: 'cmd:Xvfb', apt: 'xvfb', dnf: 'xorg-x11-server-Xvfb', pacman: 'xorg-server-xvfb', why: 'an X display for the desktop launcher test' },
  { part: 'test', present: 'cmd:libvirtd | cmd:virtqemud', apt: 'libvirt-daemon', dnf: 'libvirt-daemon', pacman: 'libvirt', why: 'the libvirt-host tests talk to a real libvirtd' },
  { part: 'test', present: 'file:/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so | file:/usr/lib64/libvirt/connection-driver/libvirt_driver_qemu.so | file:/usr/lib/libvirt/connection-driver/libvirt_driver_qemu.so', apt: 'libvirt-daemon-driver-qemu', dnf: 'libvirt-daemon-driver-qemu', pacman: 'libvirt', why: "libvirtd's QEMU driver" },
  { part: 'test', present: 'cmd:virsh', apt: 'libvirt-clients', dnf: 'libvirt-client', pacman: 'libvirt', why: 'the libvirt tests compare with virsh' },
  { part: 'test', present: 'cmd:sshd', apt: 'openssh-server', dnf: 'openssh-server', pacman: 'openssh', why: 'the remote-host tests run a private sshd' },
  { part: 'test', present: 'cmd:ssh', apt: 'openssh-client', dnf: 'openssh-clients', pacman: 'openssh', why: 'the remote-host tests connect with ssh' },
  { part: 'test', present: 'cmd:nc.openbsd | cmd:ncat | cmd:nc', apt: 'netcat-openbsd', dnf: 'nmap-ncat', pacman: 'openbsd-netcat', why: "remote libvirt hosts older than virt-ssh-helper are reached through nc -U" },
  { part: 'test', present: 'file:/usr/share/OVMF/OVMF_CODE.fd | file:/usr/share/OVMF/OVMF_CODE_4M.fd | file:/usr/share/edk2/ovmf/OVMF_CODE.fd | file:/usr/share/edk2/x64/OVMF_CODE.4m.fd', apt: 'ovmf', dnf: 'edk2-ovmf', pacman: 'edk2-ovmf', why: 'UEFI firmware for firmware="uefi" domains' },
  { part: 'test', present: 'file:/usr/share/osinfo/VERSION', apt: 'osinfo-db', dnf: 'osinfo-db', pacman: 'osinfo-db', why: "virt-install's --os-variant names" },
  { part: 'test', present: 'cmd:man', apt: 'man-db', dnf: 'man-db', pacman: 'man-db', why: 'the package test renders the man pages' },
  { part: 'test', present: 'cmd:lintian', apt: 'lintian', dnf: 'lintian', pacman: null, why: 'the package test checks the .deb' },
];

/** @param {string[]} argv */
async function main(argv) {
  const part = argv[0];
  if (part === '--start-libvirtd') return (await ensureLibvirtd({ root: true })) ? 0 : 1; // re-run under sudo -n
  if (part !== 'app' && part !== 'test') {
    console.error('usage: node scripts/host-deps.mjs app|test [--check]');
    return 2;
  }
  const checkOnly = argv.includes('--check');
  const root = process.getuid?.() === 0;
  let missing = missingNeeds(NEEDS, part, (spec) => isPresent(spec, { path: process.env.PATH }));
  if (missing.length > 0) {
    const family = packageFamily(readOsRelease());
    const sudo = root ? [] : canSudo() ? ['sudo', '-n'] : undefined;
    if (checkOnly || family !== 'apt' || !sudo || !aptInstall(sudo, missing)) {
      console.error(manualInstructions({ missing, family, root, part }));
      return 1;
    }
    missing = missingNeeds(NEEDS, part, (spec) => isPresent(spec, { path: process.env.PATH }));
    if (missing.length > 0) {
      console.error(`host-deps: still missing after apt-get install: ${missing.map((n) => n.present).join(', ')}`);
      return 1;
    }
  }
  if (part === 'test' && !checkOnly) {
    const sudo = !root && canSudo() ? [process.execPath, fileURLToPath(import.meta.url), '--start-libvirtd'] : undefined;
    if (!(await ensureLibvirtd({ root, sudo }))) return 1;
  }
  return 0;
}

function readOsRelease() {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return parseOsRelease(readFileSync(file, 'utf8'));
    } catch {
      // the next candidate (os-release(5) names both)
    }
  }
  return {};
}

function canSudo() {
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
}

/**
 * @param {string[]} sudo
 * @param {readonly import('./lib/host-deps.mjs').Need[]} missing
 */
function aptInstall(sudo, missing) {
  const { packages } = packagesFor(missing, 'apt');
  console.log(`host-deps: installing ${packages.join(' ')} with apt-get (why each: NEEDS in scripts/host-deps.mjs)`);
  // Through sudo the environment is reset: env(1) carries DEBIAN_FRONTEND across.
  const [cmd = 'env', ...pre] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  // apt's and dpkg's progress is kept back and shown only when it fails.
  /** @param {string[]} args */
  const apt = (args) => {
    const result = spawnSync(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.status === 0) return true;
    console.error(`${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-40).join('\n'));
    console.error(`host-deps: apt-get ${args[0]} failed (exit ${result.status ?? result.signal})`);
    return false;
  };
  return apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
