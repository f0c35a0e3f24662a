// Snapshots (and, later, save/restore, clone, migrate) of a domain: one function per engine method,
// as in domains.ts. They reject with EngineError.

import type { Snapshot } from '../../../engine/protocol/common/xend-api-lifecycle.js';
import { engineCall as call } from './call.js';

export type { Snapshot };

export function snapshotList({ conn, domain }: { conn: string; domain: string }): Promise<Snapshot[]> {
  return call(conn, 'snapshot.list', { domain });
}

export function snapshotCreate({ conn, domain, name, description }: { conn: string; domain: string; name: string; description: string }): Promise<Snapshot> {
  return call(conn, 'snapshot.create', { domain, name, description });
}

export async function snapshotRevert({ conn, domain, name }: { conn: string; domain: string; name: string }): Promise<void> {
  await call(conn, 'snapshot.revert', { domain, name });
}

export async function snapshotDelete({ conn, domain, name }: { conn: string; domain: string; name: string }): Promise<void> {
  await call(conn, 'snapshot.delete', { domain, name });
}

/** The GUI's Save: a managed save the domain's Run (domain.start) restores. */
export function domainManagedSave({ conn, name }: { conn: string; name: string }): Promise<{ path: string; bytes: number; downtimeMs: number; totalMs: number }> {
  return call(conn, 'domain.managedSave', { name });
}

export function domainClone({ conn, source, name, linked }: { conn: string; source: string; name: string; linked: boolean }): Promise<{ name: string; disks: string[] }> {
  return call(conn, 'domain.clone', { source, name, linked });
}

export interface MigrateRequest {
  conn: string;
  name: string;
  host: string;
  port?: number;
  live: boolean;
  copyStorage: boolean;
  bandwidthMiB?: number;
  downtimeMs?: number;
}

export function domainMigrate({ conn, name, ...rest }: MigrateRequest): Promise<{ downtimeMs: number; totalMs: number; bytes: number }> {
  return call(conn, 'domain.migrate', { ref: name, ...rest });
}
