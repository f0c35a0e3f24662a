#!/usr/bin/env node
// `dom0-doctor`: what virt-host-validate does for libvirt. Checks this host can run domains and
// says what to fix. Exit status 1 when something needed is missing.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolvePaths } from '../common/paths.js';
import { chooseAccelerator, findQemuImg, findQemuSystem } from '../qemu/index.js';

interface Check {
  label: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<number> {
  const checks: Check[] = [];
  let qemu: string | undefined;
  try {
    qemu = findQemuSystem();
    const version = execFileSync(qemu, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
    checks.push({ label: 'QEMU', ok: true, detail: `${qemu} (${version.trim()})` });
  } catch (err) {
    checks.push({ label: 'QEMU', ok: false, detail: (err as Error).message });
  }
  try {
    checks.push({ label: 'qemu-img', ok: true, detail: findQemuImg() });
  } catch (err) {
    checks.push({ label: 'qemu-img', ok: false, detail: (err as Error).message });
  }
  checks.push({
    label: '/dev/kvm',
    ok: true,
    detail: existsSync('/dev/kvm') ? 'present' : 'absent (guests will run under TCG, slower)',
  });
  if (qemu) {
    try {
      const choice = await chooseAccelerator({ qemu });
      checks.push({ label: 'accelerator', ok: true, detail: `${choice.accel}: ${choice.reason}` });
    } catch (err) {
      checks.push({ label: 'accelerator', ok: false, detail: (err as Error).message });
    }
  }
  const paths = resolvePaths();
  checks.push({ label: 'state', ok: true, detail: `config ${paths.configDir}, data ${paths.dataDir}, runtime ${paths.runtimeDir}${process.env.DOM0_HOME ? ' (DOM0_HOME)' : ''}` });
  for (const c of checks) console.log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.label.padEnd(12)} ${c.detail}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

const USAGE = `Usage: dom0-doctor
Check that this host can run Dom0's domains: QEMU and qemu-img installed, /dev/kvm, whether KVM
really runs guests (else TCG is used), and where the state lives. Exit status 1 when something
needed is missing.`;

if (process.argv[2] === '--help' || process.argv[2] === '-h') console.log(USAGE);
else process.exitCode = await main();
