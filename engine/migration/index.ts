// Save/restore, live migration, snapshots, backups and clones: the public API of engine/migration.
export { MigrationError } from './errors.js';
export type { MigrationErrorCode } from './errors.js';
export { hasManagedSave, managedSave, managedSavePath, readSaveHeader, restoreDomain, restoreManagedSave, saveDomain } from './save-restore.js';
export type { RestoreOptions, SaveOptions, SaveResult } from './save-restore.js';
export type { MigrationProgress } from './qemu-stream.js';
export { Snapshots, snapshotDisks } from './snapshots.js';
export type { SnapshotRecord, SnapshotView } from './snapshots.js';
export { cloneDomain } from './clone.js';
export type { CloneOptions } from './clone.js';
export { backupDomain, restoreBackup } from './backup.js';
export type { BackupContext, BackupRestoreOptions, BackupResult } from './backup.js';
export type { JobProgress } from './jobs.js';
export { DEFAULT_RELOCATION_PORT, hostAllowed, migrateDomain, startRelocationServer } from './relocation.js';
export type { MigrateOptions, MigrateResult, RelocationServer, RelocationServerOptions } from './relocation.js';
