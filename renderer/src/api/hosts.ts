// libvirt hosts the local engine keeps (issue 14): added by URI, each then served on its own
// endpoint like another engine. Named object-then-verb; each takes one object with `conn`, the
// connection that keeps the list (the local engine).

import { engineCall as call } from './call.js';
import { EngineError, toEngineError } from './errors.js';
import { clientOf } from './connection.js';
import { RemoteError } from '../../../engine/protocol/browser/index.js';
import type { Capabilities, ConnectionRow } from '../../../engine/protocol/common/xend-api-connections.js';

export type { Capabilities, ConnectionRow };

/** A refused host key: the fingerprint to show the user before they accept it. */
export class HostKeyError extends EngineError {
  override name = 'HostKeyError';
  constructor(
    code: string,
    message: string,
    readonly fingerprint: string | undefined,
  ) {
    super(code, message);
  }
}

export function libvirtList({ conn }: { conn: string }): Promise<ConnectionRow[]> {
  return call(conn, 'connection.list');
}

export async function libvirtAdd({ conn, uri, acceptHostKey }: { conn: string; uri: string; acceptHostKey?: string }): Promise<ConnectionRow> {
  try {
    return await clientOf(conn).call('connection.add', { uri, acceptHostKey });
  } catch (err) {
    if (err instanceof RemoteError && (err.code === 'HostKeyUnknown' || err.code === 'HostKeyChanged')) {
      throw new HostKeyError(err.code, err.message, (err.data as { fingerprint?: string } | undefined)?.fingerprint);
    }
    throw toEngineError(err);
  }
}

export async function libvirtRemove({ conn, id }: { conn: string; id: string }): Promise<void> {
  await call(conn, 'connection.remove', { id });
}

export async function libvirtConnect({ conn, id, acceptHostKey }: { conn: string; id: string; acceptHostKey?: string }): Promise<ConnectionRow> {
  return call(conn, 'connection.connect', { id, acceptHostKey });
}

/** What an endpoint serves; an older engine without connection.info serves everything. */
export async function endpointInfo({ conn }: { conn: string }): Promise<Capabilities | undefined> {
  try {
    return await call(conn, 'connection.info');
  } catch (err) {
    if (err instanceof EngineError && err.code === 'MethodNotFound') return undefined;
    throw err;
  }
}
