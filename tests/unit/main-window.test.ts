// The Electron binary cannot run here; the window's security settings are plain data and tested as such.
import { expect, test } from 'vitest';
import { isPermissionAllowed, preloadPathFor, secureWebPreferences } from '../../main/window-options.js';

test('windows are sandboxed with context isolation and no node integration', () => {
  expect(secureWebPreferences('/p/preload.cjs')).toMatchObject({
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    preload: '/p/preload.cjs',
  });
});

test('the preload is the bundled CommonJS file next to main', () => {
  expect(preloadPathFor('/opt/dom0/out/main')).toBe('/opt/dom0/out/preload/index.cjs');
});

test('web permissions: clipboard writes and full screen only', () => {
  expect(isPermissionAllowed('clipboard-sanitized-write')).toBe(true);
  expect(isPermissionAllowed('fullscreen')).toBe(true);
  for (const p of ['media', 'notifications', 'geolocation', 'openExternal', 'clipboard-read', 'pointerLock']) expect(isPermissionAllowed(p), p).toBe(false);
});
