// The runtime dir holds the sockets every client trusts (xend.sock, xenstored's, each domain's
// QMP and consoles). Its fallback, /tmp/dom0-<uid>, sits in a world-writable folder: another
// local user can create it first and put their own sockets there. So the engine uses a state dir
// only if it is a real directory (never a symlink), owned by this user and writable by nobody
// else; and clients talk only to sockets owned by this user (or root, whose sockets no user can
// forge).

import { lstatSync, mkdirSync, type Stats } from 'node:fs';

export class PrivateDirError extends Error {
  override name = 'PrivateDirError';
}

const uid = (): number => process.getuid?.() ?? 0;

/** Creates `path` (mode 0700) or checks the one that exists; throws PrivateDirError saying what to do. */
export function ensurePrivateDir(path: string, what = 'runtime directory'): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path, { recursive: true, mode: 0o700 });
    st = lstatSync(path);
  }
  const fix = `remove it, or point XDG_RUNTIME_DIR (or DOM0_RUNTIME_DIR) at a private directory`;
  if (st.isSymbolicLink()) throw new PrivateDirError(`the ${what} ${path} is a symbolic link; Dom0 does not follow links there: ${fix}`);
  if (!st.isDirectory()) throw new PrivateDirError(`the ${what} ${path} is not a directory: ${fix}`);
  if (st.uid !== uid()) {
    throw new PrivateDirError(`the ${what} ${path} belongs to uid ${st.uid}, not to you (uid ${uid()}): another user may have created it to intercept Dom0's sockets; ${fix}`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new PrivateDirError(`the ${what} ${path} is writable by other users (mode ${(st.mode & 0o7777).toString(8)}): run 'chmod 700 ${path}', or ${fix}`);
  }
}

/** Why a client must not talk to the socket at `path`, or undefined when its owner is this user or root. */
export function foreignSocketOwner(path: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return undefined; // connecting reports the missing socket in its own words
  }
  if (st.uid === uid() || st.uid === 0) return undefined;
  return `${path} belongs to uid ${st.uid}, not to you (uid ${uid()}) or root: another user may be impersonating the engine, so Dom0 does not talk to it; remove its directory, or set XDG_RUNTIME_DIR`;
}
