// Errors of save/restore, migration, snapshots, backups and clones. `code` travels in the engine
// protocol (xm prints the message); each names what went wrong and what to do.

import { QemuImgError } from '../qemu/index.js';

export type MigrationErrorCode =
  | 'SaveFailed'
  | 'RestoreFailed'
  | 'BadSaveFile'
  | 'MigrationFailed'
  | 'RelocationRefused'
  | 'SnapshotError'
  | 'NoSuchSnapshot'
  | 'UnsupportedDisk'
  | 'BackupError'
  | 'CloneError';

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** For `.catch()` on a qemu-img call: its failure becomes `code`, with qemu-img's own message. */
export function qemuImgFailure(code: MigrationErrorCode): (err: unknown) => never {
  return (err) => {
    throw err instanceof QemuImgError ? new MigrationError(code, err.message) : err;
  };
}
