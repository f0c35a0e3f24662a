// Errors of save/restore, migration, snapshots, backups and clones. `code` travels in the engine
// protocol (xm prints the message); each names what went wrong and what to do.

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
