// `vfb = [...]` entries: 'vnc=1,vnclisten=...,vncdisplay=N,vncpasswd=...,keymap=de' or 'sdl=1'
// (or `type=vnc`). The same facts also arrive as top-level vnc* keys; validate.ts folds those in.

import { isIP } from 'node:net';
import { SpecError } from './errors.js';
import type { VfbSpec } from './types.js';

/** VNC displays are ports 5900+N, so N must keep the port below 65536. */
export const MAX_VNC_DISPLAY = 65535 - 5900;

const VNC_ONLY = ['vnclisten', 'vncdisplay', 'vncunused', 'vncpasswd'] as const;
const VFB_KEYS = ['vnc', 'sdl', 'type', ...VNC_ONLY, 'keymap'];

export function checkKeymap(s: string): string | null {
  return /^[a-z]{2}(-[a-z]{2})?$/.test(s) ? null : `keymap '${s}' must look like de, en-us or fr-ch`;
}

export function checkListen(s: string): string | null {
  if (isIP(s) !== 0) return null;
  if (s.length <= 253 && /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s)) return null;
  return `vnclisten '${s}' must be an IP address or host name`;
}

export function checkVncDisplay(n: number): string | null {
  return Number.isInteger(n) && n >= 0 && n <= MAX_VNC_DISPLAY
    ? null
    : `vncdisplay must be a whole number from 0 to ${MAX_VNC_DISPLAY}, got ${n}`;
}

function flag(fail: (r: string) => never, key: string, value: string): boolean {
  if (value === '1') return true;
  if (value === '0') return false;
  return fail(`${key} must be 0 or 1, got '${value}'`);
}

export function parseVfbSpec(spec: string): VfbSpec {
  const fail = (reason: string): never => {
    throw new SpecError('vfb', spec, reason);
  };
  if (/[\0\n\r]/.test(spec)) fail('it must not contain a newline or NUL character');
  const seen = new Map<string, string>();
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) fail(`'${item}' is not key=value (e.g. vnc=1)`);
    const key = item.slice(0, eq).trim();
    if (!VFB_KEYS.includes(key)) fail(`unknown vfb option '${key}' (known: ${VFB_KEYS.join(', ')})`);
    if (seen.has(key)) fail(`'${key}' is given twice`);
    // A VNC password may legitimately start or end with blanks; nothing else may.
    seen.set(key, key === 'vncpasswd' ? raw.slice(raw.indexOf('=') + 1) : item.slice(eq + 1).trim());
  }
  const kinds = new Set<'vnc' | 'sdl'>();
  const vnc = seen.get('vnc');
  const sdl = seen.get('sdl');
  const type = seen.get('type');
  if (vnc !== undefined && flag(fail, 'vnc', vnc)) kinds.add('vnc');
  if (sdl !== undefined && flag(fail, 'sdl', sdl)) kinds.add('sdl');
  if (type !== undefined) {
    if (type !== 'vnc' && type !== 'sdl') fail(`type must be vnc or sdl, got '${type}'`);
    kinds.add(type as 'vnc' | 'sdl');
  }
  if (kinds.size === 0) fail('say which display it is: vnc=1, sdl=1 or type=vnc');
  if (kinds.size > 1) fail('one vfb entry is either vnc or sdl; write two entries for both');
  const out: VfbSpec = { type: [...kinds][0] as 'vnc' | 'sdl' };
  if (out.type === 'sdl') {
    for (const k of VNC_ONLY) if (seen.has(k)) fail(`${k} only applies to vnc displays`);
  }
  const listen = seen.get('vnclisten');
  if (listen !== undefined) {
    const err = checkListen(listen);
    if (err) fail(err);
    out.vnclisten = listen;
  }
  const display = seen.get('vncdisplay');
  if (display !== undefined) {
    if (!/^\d+$/.test(display)) fail(`vncdisplay must be a whole number, got '${display}'`);
    const err = checkVncDisplay(Number(display));
    if (err) fail(err);
    out.vncdisplay = Number(display);
  }
  const unused = seen.get('vncunused');
  if (unused !== undefined) out.vncunused = flag(fail, 'vncunused', unused);
  const passwd = seen.get('vncpasswd');
  if (passwd !== undefined) out.vncpasswd = passwd;
  const keymap = seen.get('keymap');
  if (keymap !== undefined) {
    const err = checkKeymap(keymap);
    if (err) fail(err);
    out.keymap = keymap;
  }
  return out;
}

export function formatVfbSpec(v: VfbSpec): string {
  const parts = [v.type === 'vnc' ? 'vnc=1' : 'sdl=1'];
  if (v.vnclisten !== undefined) parts.push(`vnclisten=${v.vnclisten}`);
  if (v.vncdisplay !== undefined) parts.push(`vncdisplay=${v.vncdisplay}`);
  if (v.vncunused !== undefined) parts.push(`vncunused=${v.vncunused ? 1 : 0}`);
  if (v.vncpasswd !== undefined) {
    if (/[,\n\0]/.test(v.vncpasswd)) {
      throw new SpecError('vfb', 'vncpasswd=...', 'a vncpasswd in a vfb entry cannot contain a comma or newline');
    }
    parts.push(`vncpasswd=${v.vncpasswd}`);
  }
  if (v.keymap !== undefined) parts.push(`keymap=${v.keymap}`);
  return parts.join(',');
}
