// Host interfaces through iproute2's `ip`, always as argv (never a shell), with names checked
// before they reach it. Xen's vif-bridge script did the same work with brctl.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkIfname } from '../config/index.js';
import { NetworkError } from './errors.js';

const execFileAsync = promisify(execFile);

export interface HostNet {
  /** Where /sys/class/net is (tests may point elsewhere). */
  sysClassNet?: string;
}

export function checkBridgeName(name: string): void {
  const err = checkIfname('bridge', name);
  if (err) throw new NetworkError('InvalidName', err);
}

export function bridgeExists(name: string, host: HostNet = {}): boolean {
  return existsSync(join(host.sysClassNet ?? '/sys/class/net', name, 'bridge'));
}

/** Interfaces enslaved to a bridge (its taps and uplinks). */
export function bridgePorts(name: string, host: HostNet = {}): string[] {
  try {
    const dir = join(host.sysClassNet ?? '/sys/class/net', name, 'brif');
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  } catch {
    return [];
  }
}

/** Whether the interface is administratively up. */
export function interfaceUp(name: string, host: HostNet = {}): boolean {
  try {
    const flags = parseInt(readFileSync(join(host.sysClassNet ?? '/sys/class/net', name, 'flags'), 'utf8'), 16);
    return (flags & 1) === 1;
  } catch {
    return false;
  }
}

/** Create a bridge with no uplink and bring it up. Needs CAP_NET_ADMIN. */
export async function createBridge(name: string): Promise<void> {
  checkBridgeName(name);
  await ip(['link', 'add', 'name', name, 'type', 'bridge'], `create bridge ${name}`);
  await ip(['link', 'set', 'dev', name, 'up'], `bring bridge ${name} up`);
}

export async function deleteBridge(name: string): Promise<void> {
  checkBridgeName(name);
  await ip(['link', 'delete', 'dev', name, 'type', 'bridge'], `delete bridge ${name}`);
}

/** Enslave a domain's tap to a bridge and bring it up (what vif-bridge did). */
export async function attachTap(tap: string, bridge: string): Promise<void> {
  checkBridgeName(bridge);
  const err = checkIfname('tap', tap);
  if (err) throw new NetworkError('InvalidName', err);
  await ip(['link', 'set', 'dev', tap, 'master', bridge, 'up'], `attach ${tap} to bridge ${bridge}`);
}

async function ip(args: string[], what: string): Promise<void> {
  try {
    await execFileAsync('ip', args);
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string };
    const text = (err.stderr ?? '').trim() || err.message;
    if (/Operation not permitted/i.test(text)) {
      throw new NetworkError('NotPermitted', `cannot ${what}: the engine needs CAP_NET_ADMIN (run xend as root, or have an administrator create it with 'ip link add ${args[2] ?? ''} type bridge')`);
    }
    if (err.code === 'ENOENT') throw new NetworkError('IpFailed', `cannot ${what}: the 'ip' command (iproute2) is not installed`);
    throw new NetworkError('IpFailed', `cannot ${what}: ${text}`);
  }
}
