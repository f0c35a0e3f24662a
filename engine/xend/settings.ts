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
  /** Xen's relocation service (live migration in): off unless asked, and never without a token. */
  relocationServer: boolean;
  relocationPort: number;
  /** '' listens on every address, as in Xen. */
  relocationAddress: string;
  /** Space-separated regexes in the file; a peer address must match one. Empty: any peer may try. */
  relocationHostsAllow: string[];
  /** Shared by the engines that migrate to each other (HMAC challenge, never sent). */
  relocationToken?: string;
}

export const DEFAULT_SETTINGS: XendSettings = {
  accel: 'auto',
  webAllowRemote: false,
  browseFolders: [],
  relocationServer: false,
  relocationPort: 8002,
  relocationAddress: '',
  relocationHostsAllow: [],
};

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
      case 'xend-relocation-server':
        settings.relocationServer = parseYesNo(value, `${file}:${index + 1}: xend-relocation-server`);
        break;
      case 'xend-relocation-port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${file}:${index + 1}: xend-relocation-port must be a port number, got ${value}`);
        settings.relocationPort = port;
        break;
      }
      case 'xend-relocation-address':
        settings.relocationAddress = value;
        break;
      case 'xend-relocation-hosts-allow':
        settings.relocationHostsAllow = value.split(/\s+/).filter(Boolean);
        for (const re of settings.relocationHostsAllow) {
          try {
            new RegExp(re);
          } catch {
            throw new Error(`${file}:${index + 1}: xend-relocation-hosts-allow: '${re}' is not a valid regular expression`);
          }
        }
        break;
      case 'xend-relocation-token':
        settings.relocationToken = value || undefined;
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
