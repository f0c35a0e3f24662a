// The file picker's view of the host in web mode (Electron uses the native dialog): folder
// listings, only inside the allowed roots. Symlinks are resolved before the check, so a link
// cannot lead a client out of the roots.

import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InstallError } from './errors.js';
import { isInsideDir, isSafeAbsolutePath } from '../common/safe-path.js';

export interface FileListing {
  path: string;
  parent?: string;
  roots: string[];
  entries: { name: string; path: string; type: 'dir' | 'file'; size: number }[];
}

const MAX_ENTRIES = 2000;

/** The roots that exist, resolved; order kept (the first is where a listing without path starts). */
export async function resolveRoots(roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    const real = await realpath(root).catch(() => undefined);
    if (real && !out.includes(real)) out.push(real);
  }
  return out;
}

export async function listFolder(requested: string | undefined, allowedRoots: string[]): Promise<FileListing> {
  const roots = await resolveRoots(allowedRoots);
  if (roots.length === 0) throw new InstallError('InvalidPath', 'no folder may be browsed (none of the allowed folders exists)');
  const bad = (why: string) => new InstallError('InvalidPath', `${requested}: ${why}`);
  if (requested !== undefined && !isSafeAbsolutePath(requested)) throw bad('give an absolute path');
  const real = requested === undefined ? roots[0]! : await realpath(requested).catch(() => {
    throw bad('does not exist');
  });
  const root = roots.find((r) => isInsideDir(real, r));
  if (!root) throw bad(`outside the folders that may be browsed (${roots.join(', ')}); add it with (browse-folders ...) in xend.conf`);
  const st = await stat(real);
  if (!st.isDirectory()) throw bad('is not a folder');
  const names = (await readdir(real)).filter((n) => !n.startsWith('.')).sort((a, b) => a.localeCompare(b));
  const entries: FileListing['entries'] = [];
  for (const name of names.slice(0, MAX_ENTRIES)) {
    const full = join(real, name);
    const s = await stat(full).catch(() => undefined);
    if (!s || (!s.isDirectory() && !s.isFile())) continue;
    entries.push({ name, path: full, type: s.isDirectory() ? 'dir' : 'file', size: s.isFile() ? s.size : 0 });
  }
  entries.sort((a, b) => (a.type === b.type ? 0 : a.type === 'dir' ? -1 : 1));
  return { path: real, parent: real === root ? undefined : dirname(real), roots, entries };
}
