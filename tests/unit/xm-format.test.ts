// xm's output must match Xen's byte for byte: scripts parse it.
import { expect, test } from 'vitest';
import { formatInfo, formatList, formatSxp, formatUptime, formatUptimeHeader, formatUptimeRow, formatUptimeShort, formatVcpuHeader, formatVcpuRow } from '../../engine/cli/xm/format.js';

test("xm list matches the Xen reference's example exactly", () => {
  const out = formatList([
    { name: 'Domain-0', domid: 0, memory: 1024, vcpus: 2, state: 'r-----', cpuTime: 5068.6 },
    { name: 'guest1', domid: 3, memory: 512, vcpus: 1, state: '-b----', cpuTime: 12.3 },
  ]);
  expect(out).toBe(
    [
      'Name                                        ID   Mem VCPUs      State   Time(s)',
      'Domain-0                                     0  1024     2     r-----   5068.6',
      'guest1                                       3   512     1     -b----     12.3',
      '',
    ].join('\n'),
  );
});

test('a defined domain that is not running has an empty ID and ------', () => {
  expect(formatList([{ name: 'web1', memory: 256, vcpus: 1, state: '------', cpuTime: 0 }]).split('\n')[1]).toBe(
    `${'web1'.padEnd(40)} ${''.padStart(5)}   256     1     ------      0.0`,
  );
});

test('xm list --long is an S-expression', () => {
  expect(formatSxp(['domain', ['domid', 3], ['name', 'guest1'], ['image', ['linux', ['kernel', '/boot/vmlinux']]]])).toBe(
    ['(domain', '    (domid 3)', '    (name guest1)', '    (image', '        (linux', '            (kernel /boot/vmlinux)', '        )', '    )', ')'].join('\n'),
  );
  expect(formatSxp(['cmdline', 'console=ttyS0 quiet'])).toBe("(cmdline 'console=ttyS0 quiet')");
});

test('xm uptime', () => {
  // Xen 4.1 main.py xm_uptime: '%-33s %4s %s ' header, '%(name)-32s %(domid)5s ' rows, '%2d:%02d:%02d'.
  expect(formatUptimeHeader()).toBe('Name                                ID Uptime ');
  expect(formatUptimeRow('guest1', 3, 3725)).toBe('guest1                               3  1:02:05');
  expect(formatUptimeRow('Domain-0', 0, 36000.6)).toBe('Domain-0                             0 10:00:01');
  expect(formatUptimeRow('halted', undefined, 99)).toBe('halted                                  0:00:00');
  expect(formatUptime(2 * 86400 + 5)).toBe('2 days,  0:00:05');
  expect(formatUptime(86400)).toBe('1 day,  0:00:00');
  expect(formatUptimeShort(new Date(2026, 0, 1, 9, 5, 7), 'guest1', 3, 3725)).toBe(' 09:05:07 up  1:02, guest1 (3)');
});

test('xm vcpu-list', () => {
  expect(formatVcpuHeader()).toBe('Name                                ID  VCPU   CPU State   Time(s) CPU Affinity');
  expect(formatVcpuRow({ name: 'guest1', domid: 3, vcpu: 0, cpu: 1, state: '-b-', cpuTime: 1.24, affinity: 'any cpu' })).toBe(
    'guest1                               3     0     1   -b-       1.2 any cpu',
  );
});

test('xm info', () => {
  expect(formatInfo([['host', 'h1'], ['nr_cpus', 2]])).toBe('host                   : h1\nnr_cpus                : 2\n');
});
