// Golden tests: tests/golden/qemu-argv/<case>.cfg → <case>.argv, one QEMU option per line.
// Header comments set the case: `# TEST:` what it shows, `# ACCEL: kvm|tcg` (default tcg),
// `# ARGS: var=value ...` as given to `xm create`, `# SOURCE:` where a real-world file came from,
// `# EXPECT_ERROR: <ErrorName>` (and `# EXPECT_MESSAGE: <text in it>`) for configs that must be refused. A missing .argv is written out
// and the case fails, so a new expectation is always reviewed in the diff; DOM0_GOLDEN_UPDATE=1
// (npm run golden:update) rewrites every expected file.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadDomainConfigText } from '../../engine/config/index.js';
import { formatQemuOptions, planQemu, type Accelerator, type QemuContext } from '../../engine/qemu/argv/index.js';

const dir = join(import.meta.dirname, '../golden/qemu-argv');
const update = process.env.DOM0_GOLDEN_UPDATE === '1';
const cases = readdirSync(dir).filter((f) => f.endsWith('.cfg')).sort();

function header(text: string, key: string): string | undefined {
  return new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1]?.trim();
}

function render(cfgPath: string, text: string): string {
  const args = header(text, 'ARGS')?.split(/\s+/) ?? [];
  const { config } = loadDomainConfigText(text, cfgPath, args);
  const ctx: QemuContext = {
    accel: (header(text, 'ACCEL') ?? 'tcg') as Accelerator,
    runtimeDir: `/run/dom0/domains/${config.name}`,
    macFor: (i) => `00:16:3e:00:00:${i.toString(16).padStart(2, '0')}`,
    uuid: '00000000-0000-4000-8000-000000000001',
  };
  return formatQemuOptions(planQemu(config, ctx).options);
}

describe('config → QEMU argv golden files', () => {
  test('there are at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of cases) {
    const name = file.replace(/\.cfg$/, '');
    test(name, () => {
      const cfgPath = join(dir, file);
      const text = readFileSync(cfgPath, 'utf8');
      expect(header(text, 'TEST'), `${file} needs a '# TEST:' line saying what it shows`).toBeTruthy();
      const expectedError = header(text, 'EXPECT_ERROR');
      if (expectedError) {
        let caught: unknown;
        try {
          render(cfgPath, text);
        } catch (err) {
          caught = err;
        }
        expect(caught, `${file} should be refused with ${expectedError}`).toBeInstanceOf(Error);
        expect((caught as Error).name).toBe(expectedError);
        const message = header(text, 'EXPECT_MESSAGE');
        if (message) expect((caught as Error).message).toContain(message);
        return;
      }
      const actual = render(cfgPath, text);
      const argvPath = join(dir, `${name}.argv`);
      if (update || !existsSync(argvPath)) {
        writeFileSync(argvPath, actual);
        if (!update) throw new Error(`wrote ${argvPath} for review: check it and commit it`);
        return;
      }
      expect(actual).toBe(readFileSync(argvPath, 'utf8'));
    });
  }
});
