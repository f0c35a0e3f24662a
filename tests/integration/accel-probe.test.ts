// The accelerator probe with the real QEMU: the probe firmware really runs, and the choice
// follows DOM0_ACCEL. Whether KVM passes depends on the host (it does not on our CI machines).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { probeFirmware } from '../../engine/qemu/accel.js';
import { chooseAccelerator, findQemuSystem } from '../../engine/qemu/index.js';

describe('accelerator probe', () => {
  const qemu = findQemuSystem();

  test('the probe firmware runs to its exit port under TCG (so a KVM timeout means KVM, not the probe)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-'));
    try {
      const fw = join(dir, 'probe.bin');
      writeFileSync(fw, probeFirmware());
      let status = 0;
      try {
        execFileSync(qemu, ['-machine', 'q35,accel=tcg', '-nodefaults', '-display', 'none', '-m', '16M', '-bios', fw, '-device', 'isa-debug-exit,iobase=0x501,iosize=1'], { timeout: 30_000 });
      } catch (err) {
        status = (err as { status: number }).status;
      }
      expect(status).toBe((0x21 << 1) | 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('DOM0_ACCEL forces the choice and says so', async () => {
    expect(await chooseAccelerator({ qemu, env: { DOM0_ACCEL: 'tcg' } })).toEqual({ accel: 'tcg', reason: 'DOM0_ACCEL=tcg' });
    expect(await chooseAccelerator({ qemu, env: {}, setting: 'kvm' })).toEqual({ accel: 'kvm', reason: 'engine setting accel=kvm' });
    await expect(chooseAccelerator({ qemu, env: { DOM0_ACCEL: 'xen' } })).rejects.toThrow(/DOM0_ACCEL=xen is not valid; use kvm, tcg or auto/);
  });

  test('auto probes: KVM only when the probe passes, TCG with the reason otherwise', async () => {
    const choice = await chooseAccelerator({ qemu, env: {} });
    if (choice.accel === 'kvm') expect(choice.reason).toMatch(/KVM probe passed/);
    else expect(choice.reason).toMatch(/using TCG/);
  });
});
