// Finding QEMU on the host, with an answer that says which package to install when it is missing.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { QemuNotFoundError } from './errors.js';

const INSTALL_HINT =
  'install it: Debian/Ubuntu: sudo apt-get install qemu-system-x86 qemu-utils; ' +
  'Fedora: sudo dnf install qemu-system-x86 qemu-img (or qemu-kvm); ' +
  'or point DOM0_QEMU at a qemu-system-x86_64 binary';

/** Absolute path of qemu-system-x86_64: $DOM0_QEMU, then $PATH, then where RHEL/Fedora keep qemu-kvm. */
export function findQemuSystem(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.DOM0_QEMU;
  if (override) {
    if (isExecutable(override)) return override;
    throw new QemuNotFoundError(`DOM0_QEMU=${override} is not an executable file; fix the variable or unset it`);
  }
  const found = searchPath('qemu-system-x86_64', env) ?? (isExecutable('/usr/libexec/qemu-kvm') ? '/usr/libexec/qemu-kvm' : undefined);
  if (!found) throw new QemuNotFoundError(`QEMU (qemu-system-x86_64) was not found; ${INSTALL_HINT}`);
  return found;
}

/** Absolute path of qemu-img. */
export function findQemuImg(env: NodeJS.ProcessEnv = process.env): string {
  const found = searchPath('qemu-img', env);
  if (!found) throw new QemuNotFoundError(`qemu-img was not found; ${INSTALL_HINT}`);
  return found;
}

function searchPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
