// The host's storage and networks (Host details) and the hardware of domains (Add Hardware,
// Remove): one function per engine method, object-then-verb, one object with `conn` each.

import type { PoolRow, VolumeRow, BlockRow } from '../../../engine/protocol/common/xend-api-storage.js';
import type { NetworkRow, NicRow } from '../../../engine/protocol/common/xend-api-network.js';
import { engineCall as call } from './call.js';

export type { BlockRow, NetworkRow, NicRow, PoolRow, VolumeRow };

type Ref = string | number;

export function poolList({ conn }: { conn: string }): Promise<PoolRow[]> {
  return call(conn, 'storage.poolList');
}

export function volumeList({ conn, pool }: { conn: string; pool: string }): Promise<VolumeRow[]> {
  return call(conn, 'storage.volList', { pool });
}

export function volumeCreate({
  conn,
  pool,
  name,
  size,
  format,
  preallocate,
}: {
  conn: string;
  pool: string;
  name: string;
  size: number;
  format: 'qcow2' | 'raw';
  preallocate: boolean;
}): Promise<VolumeRow> {
  return call(conn, 'storage.volCreate', { pool, name, size, format, preallocate });
}

export function volumeResize({ conn, pool, name, size, force }: { conn: string; pool: string; name: string; size: number; force: boolean }): Promise<VolumeRow> {
  return call(conn, 'storage.volResize', { pool, name, size, force });
}

export async function volumeDelete({ conn, pool, name }: { conn: string; pool: string; name: string }): Promise<void> {
  await call(conn, 'storage.volDelete', { pool, name });
}

export function networkList({ conn }: { conn: string }): Promise<NetworkRow[]> {
  return call(conn, 'network.list');
}

export function networkDefine({ conn, name, type, bridge }: { conn: string; name: string; type: 'bridge' | 'isolated'; bridge?: string }): Promise<NetworkRow> {
  return call(conn, 'network.define', { name, type, bridge });
}

export async function networkUndefine({ conn, name }: { conn: string; name: string }): Promise<void> {
  await call(conn, 'network.undefine', { name });
}

/** Add a disk (a config disk line); `live` says whether the running guest got it now. */
export function domainDiskAttach({ conn, ref, spec }: { conn: string; ref: Ref; spec: string }): Promise<{ live: boolean; vdev: string }> {
  return call(conn, 'domain.blockAttach', { ref, spec });
}

export function domainDiskDetach({ conn, ref, dev }: { conn: string; ref: Ref; dev: string }): Promise<{ live: boolean; vdev: string }> {
  return call(conn, 'domain.blockDetach', { ref, dev });
}

/** Add a NIC (a config vif line). */
export function domainNicAttach({ conn, ref, spec }: { conn: string; ref: Ref; spec: string }): Promise<{ live: boolean; mac?: string }> {
  return call(conn, 'domain.nicAttach', { ref, spec });
}

export function domainNicDetach({ conn, ref, dev }: { conn: string; ref: Ref; dev: string }): Promise<{ live: boolean; mac?: string }> {
  return call(conn, 'domain.nicDetach', { ref, dev });
}

/** Insert a medium (an image path) into a CD-ROM drive, or eject it (target ''). */
export function domainMediaChange({ conn, ref, vdev, target }: { conn: string; ref: Ref; vdev: string; target: string }): Promise<{ live: boolean }> {
  return call(conn, 'domain.mediaChange', { ref, vdev, target });
}
