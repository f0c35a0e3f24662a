// The desktop window itself needs Electron's binary, which cannot be downloaded on some machines
// (ours among them). Where it is installed this test opens the real app; where it is not, it is
// skipped and says why, so a green run never hides that it did not run.

import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers/web-engine.js';

/** The installed binary, looked up without require('electron'), which would try to download it. */
function electronBinary(): string | undefined {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const binary = join(pkg, 'dist', readFileSync(join(pkg, 'path.txt'), 'utf8').trim());
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (!binary) console.log("e2e/electron: skipped: Electron's binary is not installed on this machine (it could not be downloaded); the GUI is tested in Chromium through web mode instead");

describe.skipIf(!binary)('the desktop app', () => {
  test('opens the manager window connected to the engine it started', async () => {
    const home = mkdtempSync('/tmp/d0a-');
    const app = await electron.launch({ executablePath: binary!, args: [join(ROOT, 'out/main/index.js')], env: { ...process.env, DOM0_HOME: home, DOM0_ACCEL: 'tcg' } as Record<string, string> });
    try {
      const window = await app.firstWindow();
      await expect.poll(() => window.getByRole('row', { name: 'Domain-0', exact: true }).count(), { timeout: 60_000 }).toBe(1);
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
