// Checks made before QEMU is started, so that a missing disk, kernel or bridge is reported in
// words the user can act on, and nothing is started or left behind.

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { DomainConfig } from '../config/index.js';
import { PreflightError } from './errors.js';
import { MAX_UNIX_PATH_BYTES } from '../common/unix-socket.js';

export interface PreflightHost {
  /** Where /sys/class/net is (tests may point elsewhere). */
  sysClassNet?: string;
  /** The host's memory in MiB (default: what the OS reports). */
  totalMemoryMiB?: number;
}

export function preflightDomain(config: DomainConfig, runtimeDir: string, host: PreflightHost = {}): void {
  const problems: string[] = [];
  const longest = join(runtimeDir, 'serial.sock');
  if (Buffer.byteLength(longest) > MAX_UNIX_PATH_BYTES) {
    problems.push(`runtime path ${runtimeDir} is too long for unix sockets; use a shorter DOM0_HOME or domain name`);
  }
  // More memory than the host has cannot be allocated; QEMU's own words for it do not say what to do.
  const hostMiB = host.totalMemoryMiB ?? Math.floor(totalmem() / 1048576);
  if (config.memory > hostMiB) {
    problems.push(`memory: ${config.memory} MiB is more than this host has (${hostMiB} MiB); lower it (Details → Memory, or memory = in the config)`);
  }
  checkFile(config.kernel, 'kernel', problems);
  checkFile(config.ramdisk, 'ramdisk', problems);
  for (const disk of config.disk) {
    // An nbd: export lives on its server; QEMU's NBD client reports an unreachable one by name.
    if (disk.target === '' || disk.backend === 'nbd') continue;
    const what = `disk ${disk.vdev}`;
    if (!existsSync(disk.target)) {
      problems.push(`${what}: ${disk.target} does not exist; create the image (qemu-img create) or fix the path in the disk line`);
      continue;
    }
    const writable = disk.access !== 'r' && disk.devtype !== 'cdrom';
    try {
      accessSync(disk.target, writable ? constants.R_OK | constants.W_OK : constants.R_OK);
    } catch {
      problems.push(`${what}: ${disk.target} is not ${writable ? 'readable and writable' : 'readable'} by this user; fix its permissions${writable ? " or attach it read-only (mode 'r')" : ''}`);
      continue;
    }
    const stat = statSync(disk.target);
    if (disk.backend === 'phy' && !stat.isBlockDevice()) {
      problems.push(`${what}: phy:${disk.target} is not a block device; use file: for image files`);
    } else if (disk.backend !== 'phy' && stat.isDirectory()) {
      problems.push(`${what}: ${disk.target} is a directory, not a disk image`);
    }
  }
  const sysClassNet = host.sysClassNet ?? '/sys/class/net';
  for (const [index, vif] of config.vif.entries()) {
    if (!vif.bridge) continue;
    if (!existsSync(join(sysClassNet, vif.bridge, 'bridge'))) {
      problems.push(`vif ${index}: bridge ${vif.bridge} does not exist; create it (ip link add ${vif.bridge} type bridge), or use NAT by removing bridge= from the vif`);
    }
  }
  if (problems.length > 0) {
    throw new PreflightError(`cannot start domain ${config.name}:\n  ${problems.join('\n  ')}`);
  }
}

function checkFile(path: string | undefined, what: string, problems: string[]): void {
  if (!path) return;
  try {
    accessSync(path, constants.R_OK);
    if (!statSync(path).isFile()) problems.push(`${what} ${path} is not a regular file`);
  } catch {
    problems.push(`${what} ${path} does not exist or is not readable; fix the ${what} line in the config`);
  }
}
