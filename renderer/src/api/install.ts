// Creating domains and browsing the engine host's files (the New VM wizard). Same rules as
// domains.ts: one function per engine method, one object argument with `conn`, EngineError on failure.

import type { CallArgs, MethodName, ResultOf } from '../../../engine/protocol/browser/index.js';
import type { XendMethods } from '../../../engine/protocol/common/xend-api.js';
import type { InstallDescriptionInput } from '../../../engine/protocol/common/xend-api-install.js';
import { clientOf } from './connection.js';
import { toEngineError } from './errors.js';

export type InstallDescription = InstallDescriptionInput;
export type InstallResult = ResultOf<XendMethods, 'install.create'>;
export type OsInfo = ResultOf<XendMethods, 'install.osList'>[number];
export type MediaDetection = ResultOf<XendMethods, 'install.detect'>;
export type PoolInfo = ResultOf<XendMethods, 'install.poolInfo'>;
export type FolderListing = ResultOf<XendMethods, 'files.list'>;

async function call<K extends MethodName<XendMethods>>(conn: string, method: K, ...args: CallArgs<XendMethods, K>): Promise<ResultOf<XendMethods, K>> {
  try {
    return await clientOf(conn).call(method, ...args);
  } catch (err) {
    throw toEngineError(err);
  }
}

/** A network install downloads the installer first: far longer than an ordinary call may take. */
const CREATE_TIMEOUT_MS = 30 * 60_000;
const DETECT_TIMEOUT_MS = 5 * 60_000;

export function installCreate({ conn, description }: { conn: string; description: InstallDescription }): Promise<InstallResult> {
  return call(conn, 'install.create', { description }, { timeoutMs: CREATE_TIMEOUT_MS });
}

export function installOsList({ conn }: { conn: string }): Promise<OsInfo[]> {
  return call(conn, 'install.osList');
}

export function installDetect({ conn, cdrom, location }: { conn: string; cdrom?: string; location?: string }): Promise<MediaDetection> {
  return call(conn, 'install.detect', cdrom !== undefined ? { cdrom } : { location: location ?? '' }, { timeoutMs: DETECT_TIMEOUT_MS });
}

export function installPoolInfo({ conn }: { conn: string }): Promise<PoolInfo> {
  return call(conn, 'install.poolInfo');
}

export function filesList({ conn, path }: { conn: string; path?: string }): Promise<FolderListing> {
  return call(conn, 'files.list', path === undefined ? {} : { path });
}
