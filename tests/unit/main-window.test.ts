// The Electron binary cannot run here; the window's security settings are plain data and tested as such.
import { expect, test } from 'vitest';
import { secureWebPreferences } from '../../main/window-options.js';

test('windows are sandboxed with context isolation and no node integration', () => {
  expect(secureWebPreferences('/p/preload.cjs')).toMatchObject({
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    webSecurity: true,
    preload: '/p/preload.cjs',
  });
});
