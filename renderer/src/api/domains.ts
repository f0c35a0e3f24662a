// Domains: one function per engine method, named object-then-verb, each taking one object whose
// `conn` is the connection id. They reject with EngineError (plain-words message, engine code).

import type { CallArgs, MethodName, ResultOf } from '../../../engine/protocol/browser/index.js';
import type { XendMethods } from '../../../engine/protocol/common/xend-api.js';
import { clientOf } from './connection.js';
import { toEngineError } from './errors.js';
import type { DomainChanges, DomainConfigResult, DomainDeleteResult, DomainRow, DomainUpdateResult } from './types.js';

/** One engine call with its error turned into an EngineError (also used by lifecycle.ts). */
export async function call<K extends MethodName<XendMethods>>(
  conn: string,
  method: K,
  ...args: CallArgs<XendMethods, K>
): Promise<ResultOf<XendMethods, K>> {
  try {
    return await clientOf(conn).call(method, ...args);
  } catch (err) {
    throw toEngineError(err);
  }
}

type Ref = string | number;

export function domainList({ conn }: { conn: string }): Promise<DomainRow[]> {
  return call(conn, 'domain.list', {});
}

export async function domainStart({ conn, name }: { conn: string; name: string }): Promise<void> {
  await call(conn, 'domain.start', { name });
}

export async function domainPause({ conn, ref }: { conn: string; ref: Ref }): Promise<void> {
  await call(conn, 'domain.pause', { ref });
}

export async function domainUnpause({ conn, ref }: { conn: string; ref: Ref }): Promise<void> {
  await call(conn, 'domain.unpause', { ref });
}

/** The ACPI power button; with reboot, a reboot. Returns once asked, not once the guest is down. */
export async function domainShutdown({ conn, ref, reboot = false }: { conn: string; ref: Ref; reboot?: boolean }): Promise<void> {
  await call(conn, 'domain.shutdown', { ref, reboot });
}

/** Force Off. */
export async function domainDestroy({ conn, ref }: { conn: string; ref: Ref }): Promise<void> {
  await call(conn, 'domain.destroy', { ref });
}

/** Force Reset. */
export async function domainReset({ conn, ref }: { conn: string; ref: Ref }): Promise<void> {
  await call(conn, 'domain.reset', { ref });
}

export function domainDelete({
  conn,
  name,
  storage,
  force,
}: {
  conn: string;
  name: string;
  storage: string[];
  force: boolean;
}): Promise<DomainDeleteResult> {
  return call(conn, 'domain.delete', { name, storage, force });
}

export function domainConfigGet({ conn, name }: { conn: string; name: string }): Promise<DomainConfigResult> {
  return call(conn, 'domain.getConfig', { name });
}

export function domainUpdate({ conn, name, changes }: { conn: string; name: string; changes: DomainChanges }): Promise<DomainUpdateResult> {
  return call(conn, 'domain.update', { name, changes });
}
