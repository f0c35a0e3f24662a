// Which accelerator domains use. /dev/kvm existing proves little: on some hosts (nested
// virtualisation without unrestricted guest support) KVM opens fine but real-mode code crawls and
// 64-bit guests die with emulation failures. So the probe boots a tiny firmware image under KVM
// that counts down a loop in real mode and then writes to QEMU's isa-debug-exit port. KVM is used
// only if that finishes, with the right exit code, well within the deadline; TCG otherwise.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Accelerator } from './argv/index.js';

export type AccelSetting = Accelerator | 'auto';

export interface AccelChoice {
  accel: Accelerator;
  /** Why: "DOM0_ACCEL=tcg", "KVM probe passed in 12 ms", "KVM probe timed out after 3000 ms", ... */
  reason: string;
}

/** Value the probe firmware writes to isa-debug-exit; QEMU exits with (value << 1) | 1. */
const PROBE_EXIT_VALUE = 0x21;
const PROBE_EXIT_STATUS = (PROBE_EXIT_VALUE << 1) | 1;
/** Working KVM runs the loop in milliseconds; emulated real mode needs tens of seconds. */
const PROBE_DEADLINE_MS = 3000;

export function parseAccelSetting(value: string | undefined, source: string): AccelSetting | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'kvm' || value === 'tcg' || value === 'auto') return value;
  throw new Error(`${source}=${value} is not valid; use kvm, tcg or auto`);
}

/**
 * Decide the accelerator. DOM0_ACCEL wins over the engine setting; 'auto' (the default) probes.
 * A forced 'kvm' is honoured even if the probe would fail: the user asked for it.
 */
export async function chooseAccelerator(opts: {
  qemu: string;
  setting?: AccelSetting;
  env?: NodeJS.ProcessEnv;
}): Promise<AccelChoice> {
  const env = opts.env ?? process.env;
  const fromEnv = parseAccelSetting(env.DOM0_ACCEL, 'DOM0_ACCEL');
  const setting = fromEnv ?? opts.setting ?? 'auto';
  const source = fromEnv ? 'DOM0_ACCEL' : 'engine setting accel';
  if (setting !== 'auto') return { accel: setting, reason: `${source}=${setting}` };
  const probe = await probeKvm(opts.qemu);
  return probe.ok ? { accel: 'kvm', reason: probe.detail } : { accel: 'tcg', reason: probe.detail };
}

export interface KvmProbeResult {
  ok: boolean;
  detail: string;
}

export async function probeKvm(qemu: string, deadlineMs = PROBE_DEADLINE_MS): Promise<KvmProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'dom0-kvm-probe-'));
  try {
    const firmware = join(dir, 'probe.bin');
    await writeFile(firmware, probeFirmware());
    const started = process.hrtime.bigint();
    const result = await runWithDeadline(
      qemu,
      ['-machine', 'q35,accel=kvm', '-nodefaults', '-no-user-config', '-display', 'none', '-m', '16M', '-bios', firmware, '-device', 'isa-debug-exit,iobase=0x501,iosize=1'],
      deadlineMs,
    );
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    if (result.timedOut) return { ok: false, detail: `KVM probe did not finish within ${deadlineMs} ms (KVM present but unusable); using TCG` };
    if (result.code !== PROBE_EXIT_STATUS) {
      const why = result.stderr.trim().split('\n')[0] || `exit status ${result.code}`;
      return { ok: false, detail: `KVM unavailable (${why}); using TCG` };
    }
    return { ok: true, detail: `KVM probe passed in ${ms} ms` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A 64 KiB BIOS image: the reset vector jumps to F000:0000, which counts ECX down from 2^24 and
 * then writes PROBE_EXIT_VALUE to port 0x501 (isa-debug-exit). Hand-assembled 16-bit code.
 */
export function probeFirmware(): Buffer {
  const image = Buffer.alloc(0x10000, 0xf4); // hlt everywhere else
  const code = [
    0x66, 0xb9, 0x00, 0x00, 0x00, 0x01, // mov ecx, 0x01000000
    0x66, 0x49, //                         dec ecx
    0x75, 0xfc, //                         jnz dec
    0xba, 0x01, 0x05, //                   mov dx, 0x0501
    0xb0, PROBE_EXIT_VALUE, //             mov al, PROBE_EXIT_VALUE
    0xee, //                               out dx, al
    0xf4, //                               hlt
    0xeb, 0xfd, //                         jmp hlt
  ];
  Buffer.from(code).copy(image, 0);
  Buffer.from([0xea, 0x00, 0x00, 0x00, 0xf0]).copy(image, 0xfff0); // jmp far F000:0000
  return image;
}

function runWithDeadline(cmd: string, args: string[], deadlineMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: err.message, timedOut: false });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}
