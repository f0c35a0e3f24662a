// `vif = [...]` entries: "key=value,..." with Xen's keys; '' means a NIC with every default.

import { isIP } from 'node:net';
import { SpecError } from './errors.js';
import type { VifSpec } from './types.js';

/** Key order of formatted specs: the order Xen's documentation lists them in. */
export const VIF_KEYS = ['mac', 'bridge', 'ip', 'vifname', 'model', 'rate', 'type', 'script', 'hostfwd'] as const;
type VifKey = (typeof VIF_KEYS)[number];

const VIF_TYPES = ['ioemu', 'netfront', 'vif'] as const;

/** Linux interface names: IFNAMSIZ-1 characters, no '/', ':' or blanks. Null if fine. */
export function checkIfname(what: string, s: string): string | null {
  if (s.length === 0 || s.length > 15) return `${what} '${s}' must be 1 to 15 characters long`;
  if (!/^[A-Za-z0-9_.-]+$/.test(s)) return `${what} '${s}' may only contain letters, digits, '_', '.' and '-'`;
  if (s === '.' || s === '..') return `${what} '${s}' is not a usable interface name`;
  return null;
}

/** A MAC in `xx:xx:xx:xx:xx:xx` form, lower-cased; error text if not a usable unicast MAC. */
export function normaliseMac(s: string): { mac: string } | { error: string } {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s)) {
    return { error: `mac '${s}' must be six hex pairs such as 00:16:3e:12:34:56` };
  }
  const mac = s.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) {
    return {
      error: `mac '${s}' is a multicast address (the low bit of its first byte is set); a NIC needs a unicast one such as 00:16:3e:12:34:56`,
    };
  }
  return { mac };
}

function checkIp(s: string): string | null {
  // xend took a space-separated list of addresses for the antispoof rules.
  const parts = s.split(/\s+/).filter(Boolean);
  if (parts.length === 0) return 'ip needs an address such as 10.0.0.5';
  for (const p of parts) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(p);
    const kind = m ? isIP(m[1] as string) : 0;
    const bits = m?.[2] === undefined ? undefined : Number(m[2]);
    if (kind === 0 || (bits !== undefined && bits > (kind === 4 ? 32 : 128))) {
      return `ip '${p}' is not an IPv4 or IPv6 address`;
    }
  }
  return null;
}

export interface PortForward {
  proto: 'tcp' | 'udp';
  /** Host address to listen on; loopback unless the rule names another. */
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

/** One `hostfwd` rule: `tcp:2222:22` (host port 2222 on 127.0.0.1 → guest port 22) or `udp:0.0.0.0:5353:53`. */
export function parseHostfwd(rule: string): PortForward | { error: string } {
  const m = /^(tcp|udp):(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})$/.exec(rule);
  const error = `hostfwd '${rule}' must look like tcp:2222:22 or tcp:0.0.0.0:8080:80 (protocol, optional host address, host port, guest port)`;
  if (!m) return { error };
  const hostAddr = m[2] ?? '127.0.0.1';
  const hostPort = Number(m[3]);
  const guestPort = Number(m[4]);
  if (isIP(hostAddr) !== 4 || hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) return { error };
  return { proto: m[1] as 'tcp' | 'udp', hostAddr, hostPort, guestPort };
}

function checkHostfwd(rule: string): string | null {
  const r = parseHostfwd(rule);
  return 'error' in r ? r.error : null;
}

export function parseVifSpec(spec: string): VifSpec {
  const fail = (reason: string): never => {
    throw new SpecError('vif', spec, reason);
  };
  if (/[\0\n\r]/.test(spec)) fail('it must not contain a newline or NUL character');
  const out: VifSpec = {};
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) fail(`'${item}' is not key=value (keys: ${VIF_KEYS.join(', ')})`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (!(VIF_KEYS as readonly string[]).includes(key)) {
      fail(`unknown vif option '${key}' (known: ${VIF_KEYS.join(', ')})`);
    }
    const k = key as VifKey;
    if (out[k] !== undefined) fail(`'${k}' is given twice`);
    if (value === '') fail(`${k} needs a value, as in ${k === 'mac' ? 'mac=00:16:3e:12:34:56' : `${k}=...`}`);
    switch (k) {
      case 'mac': {
        const r = normaliseMac(value);
        if ('error' in r) return fail(r.error);
        out.mac = r.mac;
        break;
      }
      case 'bridge':
      case 'vifname': {
        const err = checkIfname(k, value);
        if (err) fail(err);
        out[k] = value;
        break;
      }
      case 'ip': {
        const err = checkIp(value);
        if (err) fail(err);
        out.ip = value.split(/\s+/).join(' ');
        break;
      }
      case 'model':
        if (!/^[a-z0-9_-]+$/.test(value)) fail(`model '${value}' may only contain a-z, 0-9, '_' and '-' (e.g. virtio, e1000)`);
        out.model = value;
        break;
      case 'rate':
        if (!/^\d+(?:\.\d+)?[GMK]?[Bb]\/s(?:@\d+[mu]?s)?$/.test(value)) {
          fail(`rate '${value}' must look like 10Mb/s or 100Kb/s@20ms`);
        }
        out.rate = value;
        break;
      case 'type':
        if (!(VIF_TYPES as readonly string[]).includes(value)) fail(`type '${value}' must be one of ${VIF_TYPES.join(', ')}`);
        out.type = value as VifSpec['type'];
        break;
      case 'script':
        if (!/^[A-Za-z0-9_./+-]+$/.test(value)) fail(`script '${value}' must be a script name or path`);
        out.script = value;
        break;
      case 'hostfwd': {
        const rules = value.split(/\s+/).filter(Boolean);
        for (const rule of rules) {
          const err = checkHostfwd(rule);
          if (err) fail(err);
        }
        out.hostfwd = rules.join(' ');
        break;
      }
    }
  }
  return out;
}

export function formatVifSpec(v: VifSpec): string {
  const parts: string[] = [];
  for (const k of VIF_KEYS) {
    const value = v[k];
    if (value === undefined) continue;
    if (/[,=\n\0]/.test(value)) {
      throw new SpecError('vif', `${k}=${value}`, `${k} cannot contain ',', '=' or a newline`);
    }
    parts.push(`${k}=${value}`);
  }
  return parts.join(',');
}
