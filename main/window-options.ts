// The security baseline of every Dom0 window, kept apart from Electron calls so it is unit-testable.
import { join } from 'node:path';

export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
  } as const;
}

export function preloadPathFor(mainDir: string): string {
  return join(mainDir, '../preload/index.cjs');
}

/**
 * Web permissions the renderer may be granted: writing the clipboard (copy out of a console) and
 * HTML full screen (a console in full screen). Everything else (camera, notifications,
 * geolocation, reading the clipboard, ...) is refused.
 */
export function isPermissionAllowed(permission: string): boolean {
  return permission === 'clipboard-sanitized-write' || permission === 'fullscreen';
}
