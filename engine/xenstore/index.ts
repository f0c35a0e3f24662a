// Public API of the xenstore room: the registry (pure), its persistence, the daemon and the
// client. Other engine rooms import from here only.

export { XenstoreClient, XenstoreTransaction, defaultSocketPath } from './client.js';
export type { ConnectOptions, TransactionOptions, WatchCallback, WatchHandle, XenstoreOps } from './client.js';
export {
  ERRNOS,
  ERRNO_TEXT,
  XenstoreConnectError,
  XenstoreDisconnectedError,
  XenstoreError,
  XenstoredRunningError,
} from './errors.js';
export type { Errno, XenstoreConnectFailure } from './errors.js';
export { Journal, JournalCorruptError, crc32, decodeRecords, encodeRecord } from './journal.js';
export type { DecodedRecords, JournalFiles, JournalOptions, OpenedJournal } from './journal.js';
export {
  INTRODUCE_DOMAIN,
  MAX_PATH_BYTES,
  MAX_VALUE_BYTES,
  RELEASE_DOMAIN,
  canonicalPath,
  domainPath,
} from './path.js';
export { decodeCommit, decodeSnapshot, encodeCommit, encodeSnapshot, openPersistentTree } from './persist.js';
export type { PersistentTree, PersistentTreeOptions } from './persist.js';
export { formatPermission, formatPermissions, parsePermission, parsePermissions, rightsOf } from './perms.js';
export type { Access, Permission, Rights } from './perms.js';
export { MAX_LINE_BYTES } from './protocol.js';
export type { DaemonMessage, Op, Request } from './protocol.js';
export { startXenstored, xenstoreLocations } from './server.js';
export type { LogLevel, Xenstored, XenstoredOptions, XenstoreLocations } from './server.js';
export { DEFAULT_QUOTA, XenstoreConnection, XenstoreTree } from './tree.js';
export type { ConnectOptions as TreeConnectOptions, Mutation, Quota, SnapshotEntry, TreeOptions, WatchEvent } from './tree.js';
