// Defence in depth: even a DomainConfig that skipped validation cannot inject QEMU options.
import { describe, expect, test } from 'vitest';
import { loadDomainConfigText, type DomainConfig } from '../../engine/config/index.js';
import { planQemu, qemuArgv, UnsafeValueError, type QemuContext } from '../../engine/qemu/index.js';

const ctx: QemuContext = { accel: 'tcg', runtimeDir: '/run/dom0/domains/x', macFor: () => '00:16:3e:00:00:01', uuid: '00000000-0000-4000-8000-000000000001' };
const base: DomainConfig = loadDomainConfigText('name = "x"\nkernel = "/boot/vmlinux"\n', 'x.cfg').config;

describe('option values cannot inject options', () => {
  test('a comma in the name is doubled, so it stays part of the name', () => {
    const argv = qemuArgv(planQemu({ ...base, name: 'a,debug-threads=off' }, ctx).options);
    expect(argv).toContain('guest=a,,debug-threads=off,debug-threads=on');
  });

  test.each([
    ['name', { name: 'x\n-device' }],
    ['kernel', { kernel: '/boot/vm\nlinux' }],
    ['extra', { extra: 'console=ttyS0\u0000-S' }],
  ])('a control character in %s is refused', (_what, patch) => {
    expect(() => planQemu({ ...base, ...patch } as DomainConfig, ctx)).toThrow(UnsafeValueError);
  });

  test('a disk path with a newline is refused, one with commas escaped', () => {
    const disk = { backend: 'file', target: '/img/a\n.img', format: 'raw', vdev: 'xvda', devtype: 'disk', access: 'w' } as const;
    expect(() => planQemu({ ...base, disk: [disk] }, ctx)).toThrow(UnsafeValueError);
    const argv = qemuArgv(planQemu({ ...base, disk: [{ ...disk, target: '/img/a,file.locking=off' }] }, ctx).options);
    expect(argv.some((a) => a.includes('filename=/img/a,,file.locking=off,node-name='))).toBe(true);
  });

  test('a runtime dir with a comma is escaped in every socket option', () => {
    const argv = qemuArgv(planQemu(base, { ...ctx, runtimeDir: '/run/a,b' }).options);
    expect(argv.filter((a) => a.includes('/run/a,b')).length).toBe(1); // only -pidfile takes the raw path
    expect(argv.filter((a) => a.includes('/run/a,,b')).length).toBe(2);
  });
});
