// qemu-img for the rooms here (snapshots of stopped domains, clones, backups): argv only, and
// its stderr in the error, which is what tells the user what is wrong with an image.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findQemuImg } from '../qemu/index.js';
import { MigrationError, type MigrationErrorCode } from './errors.js';

const execFileAsync = promisify(execFile);

export async function qemuImg(args: string[], code: MigrationErrorCode): Promise<string> {
  try {
    const { stdout } = await execFileAsync(findQemuImg(), args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new MigrationError(code, `qemu-img ${args[0]} failed: ${stderr || (err as Error).message}`);
  }
}
