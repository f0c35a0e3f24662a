import { describe, expect, test } from 'vitest';
import { ALLOWED_IN, isAllowed, randomXenMac, stateLetters } from '../../engine/domains/index.js';
import { parseProcStat } from '../../engine/qemu/index.js';
import { resolvePaths } from '../../engine/common/paths.js';

describe("Xen's state letters", () => {
  test.each([
    ['running', true, 'r-----'],
    ['running', false, '-b----'],
    ['paused', false, '--p---'],
    ['shutdown', false, '---s--'],
    ['crashed', false, '----c-'],
    ['dying', false, '-----d'],
  ] as const)('%s (vcpu on cpu: %s) is %s', (status, onCpu, letters) => {
    expect(stateLetters(status, onCpu)).toBe(letters);
  });
});

describe('operations are allowed only in their states', () => {
  test('pause only while running, unpause only while paused, destroy unless dying', () => {
    expect(isAllowed('pause', 'running')).toBe(true);
    expect(isAllowed('pause', 'paused')).toBe(false);
    expect(isAllowed('unpause', 'running')).toBe(false);
    expect(isAllowed('destroy', 'crashed')).toBe(true);
    expect(isAllowed('destroy', 'dying')).toBe(false);
    expect(isAllowed('shutdown', 'paused')).toBe(false);
    for (const states of Object.values(ALLOWED_IN)) expect(states).not.toContain('dying');
  });
});

describe('MAC addresses', () => {
  test("random MACs use Xen's OUI, are unicast and avoid those in use", () => {
    const used = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const mac = randomXenMac(used);
      expect(mac).toMatch(/^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
      expect(used.has(mac)).toBe(false);
      used.add(mac);
    }
  });
});

describe('/proc/<pid>/stat', () => {
  test('a comm with spaces and parentheses does not shift the fields', () => {
    const line = '1234 (qemu (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 98765 1000 100';
    const stat = parseProcStat(line);
    expect(stat.state).toBe('S');
    expect(stat.cpuSeconds).toBeCloseTo(3.0);
    expect(stat.startTicks).toBe(98765);
  });
});

describe('state dirs', () => {
  test('DOM0_HOME relocates config, data and runtime together', () => {
    const p = resolvePaths({ DOM0_HOME: '/srv/d0' });
    expect([p.configDir, p.dataDir, p.runtimeDir]).toEqual(['/srv/d0/config', '/srv/d0/data', '/srv/d0/run']);
    expect(p.domainRuntimeDir('web1')).toBe('/srv/d0/run/domains/web1');
    expect(p.domainConfigDir).toBe('/srv/d0/config/domains');
  });

  test('without DOM0_HOME the XDG dirs are used', () => {
    const p = resolvePaths({ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' });
    expect(p.configDir).toBe('/home/u/.config/dom0');
    expect(p.dataDir).toBe('/home/u/.local/share/dom0');
    expect(p.runtimeDir).toBe('/run/user/1000/dom0');
  });
});
