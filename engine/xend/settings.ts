// xend.conf: engine settings in the S-expression style of Xen's xend-config.sxp, which Xen users
// know: one `(key value)` per line, `#` comments. Unknown keys are reported, not fatal.

import { readFileSync } from 'node:fs';
import { parseAccelSetting, type AccelSetting } from '../qemu/index.js';

export interface XendSettings {
  accel: AccelSetting;
  /** `host:port` for web mode / remote WebSocket access; undefined = off. */
  webListen?: string;
  /** Allow the WebSocket listener on a non-loopback address. */
  webAllowRemote: boolean;
  /** Extra folders the web-mode file picker may browse, `(browse-folders '/srv/iso:/mnt/images')`. */
  browseFolders: string[];
}

export const DEFAULT_SETTINGS: XendSettings = { accel: 'auto', webAllowRemote: false, browseFolders: [] };

export interface SettingsResult {
  settings: XendSettings;
  warnings: string[];
}

export function parseSettings(text: string, file: string): SettingsResult {
  const settings: XendSettings = { ...DEFAULT_SETTINGS };
  const warnings: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const match = /^\(\s*([a-z][a-z0-9-]*)\s+(?:'([^']*)'|"([^"]*)"|([^()\s]+))\s*\)$/.exec(line);
    if (!match) throw new Error(`${file}:${index + 1}: expected "(key value)", got: ${line}`);
    const key = match[1]!;
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    switch (key) {
      case 'accel':
        settings.accel = parseAccelSetting(value, `${file}:${index + 1}: accel`) ?? 'auto';
        break;
      case 'web-listen':
        settings.webListen = value || undefined;
        break;
      case 'web-allow-remote':
        settings.webAllowRemote = parseYesNo(value, `${file}:${index + 1}: web-allow-remote`);
        break;
      case 'browse-folders':
        settings.browseFolders = value.split(':').filter((p) => p.startsWith('/'));
        break;
      default:
        warnings.push(`${file}:${index + 1}: unknown setting '${key}' ignored`);
    }
  });
  return { settings, warnings };
}

export function loadSettings(path: string): SettingsResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: { ...DEFAULT_SETTINGS }, warnings: [] };
    throw err;
  }
  return parseSettings(text, path);
}

function parseYesNo(value: string, where: string): boolean {
  if (value === 'yes' || value === 'true' || value === '1') return true;
  if (value === 'no' || value === 'false' || value === '0') return false;
  throw new Error(`${where}: expected yes or no, got ${value}`);
}
