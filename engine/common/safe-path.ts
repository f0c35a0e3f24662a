// The one test for a path a client or a config hands the engine: absolute (so it is never taken
// relative to the daemon's cwd, nor as a protocol prefix such as `nbd:` or `json:`) and free of
// control characters (a newline would break logs, configs and xenstore lines). And the rule for
// what a remote client may name on this host (checkClientPath).

import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function hasControlCharacter(s: string): boolean {
  return CONTROL.test(s);
}

export function isSafeAbsolutePath(path: string): boolean {
  return isAbsolute(path) && !CONTROL.test(path);
}

/** `path` is `root` or lies below it (both already resolved). */
export function isInsideDir(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path `path` names, symlinks resolved: of the file itself when it exists, else of its
 * folder (a file about to be written). undefined when neither exists.
 */
export function resolveExisting(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return undefined;
    }
  }
}

export class ClientPathError extends Error {
  override name = 'InvalidPath';
  readonly code = 'InvalidPath';
}

/**
 * The one rule for a host path a remote client (web mode, another engine) names: absolute, free of
 * control characters, and, once symlinks are resolved, inside one of `roots` (the storage pools,
 * the data dir and the (browse-folders ...) of xend.conf). Local clients (the unix socket) act as
 * the user and are not limited. Returns the resolved path.
 */
export function checkClientPath(path: string, roots: readonly string[], what = 'path'): string {
  if (!isSafeAbsolutePath(path)) throw new ClientPathError(`${what} ${path}: give an absolute path without control characters`);
  const real = resolveExisting(path);
  const realRoots = roots.map(resolveExisting).filter((r): r is string => r !== undefined);
  if (!real || !realRoots.some((root) => isInsideDir(real, root))) {
    // Whether the path exists is not said: that too is something a remote client may not learn.
    throw new ClientPathError(`${what} ${path} is outside the folders remote clients may use (${realRoots.join(', ')}); add its folder with (browse-folders ...) in xend.conf`);
  }
  return real;
}
