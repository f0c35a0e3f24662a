// Install media on the host: is it readable, and what does it say it is (an ISO's volume label).

import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { InstallError } from './errors.js';
import { isSafeAbsolutePath } from '../common/safe-path.js';

/** The path exists, is a regular file (or block device) and this process can read its first bytes. */
export async function checkReadableFile(path: string, what: string): Promise<void> {
  if (!isSafeAbsolutePath(path)) throw new InstallError('InvalidInstall', `${what} ${path}: give an absolute path`);
  try {
    const st = await stat(path);
    if (!st.isFile() && !st.isBlockDevice()) throw new InstallError('MediaUnreadable', `${what} ${path} is not a file`);
    await access(path, constants.R_OK);
    const handle = await open(path, 'r');
    try {
      await handle.read(Buffer.alloc(512), 0, 512, 0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof InstallError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : (err as Error).message;
    throw new InstallError('MediaUnreadable', `${what} ${path} ${why}`);
  }
}

/**
 * The volume label of an ISO 9660 image (the primary volume descriptor at sector 16), or undefined
 * when the file is not one.
 */
export async function readIsoLabel(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const pvd = Buffer.alloc(2048);
    const { bytesRead } = await handle.read(pvd, 0, 2048, 16 * 2048);
    if (bytesRead < 72 || pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') return undefined;
    return pvd.toString('latin1', 40, 72).trim() || undefined;
  } finally {
    await handle.close();
  }
}
