import { expect, test } from 'vitest';
import { parseSettings } from '../../engine/xend/settings.js';

test("relocation settings keep Xen's names; hosts-allow is space-separated regexes", () => {
  const { settings, warnings } = parseSettings(
    [
      '(xend-relocation-server yes)',
      '(xend-relocation-port 8003)',
      "(xend-relocation-address '192.168.1.5')",
      "(xend-relocation-hosts-allow '^localhost$ ^192\\.168\\.1\\.[0-9]+$')",
      "(xend-relocation-token 'a-long-shared-secret-1234')",
      '',
    ].join('\n'),
    'xend.conf',
  );
  expect(warnings).toEqual([]);
  expect(settings).toMatchObject({
    relocationServer: true,
    relocationPort: 8003,
    relocationAddress: '192.168.1.5',
    relocationHostsAllow: ['^localhost$', '^192\\.168\\.1\\.[0-9]+$'],
    relocationToken: 'a-long-shared-secret-1234',
  });
  expect(parseSettings('', 'x').settings).toMatchObject({ relocationServer: false, relocationPort: 8002, relocationAddress: '', relocationHostsAllow: [] });
  expect(() => parseSettings('(xend-relocation-port 99999)\n', 'xend.conf')).toThrow(/xend.conf:1: xend-relocation-port must be a port number/);
  expect(() => parseSettings("(xend-relocation-hosts-allow '^(bad')\n", 'xend.conf')).toThrow(/'\^\(bad' is not a valid regular expression/);
});
