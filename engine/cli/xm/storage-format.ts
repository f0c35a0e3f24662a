// Output formats of xm's storage commands: pool-list and vol-list (ours, in virsh's units) and
// Xen's block-list. Pure functions over the API's rows.

import type { BlockRow, PoolRow, VolumeRow } from '../../protocol/common/xend-api-storage.js';
import { formatBytes } from '../../protocol/common/sizes.js';
import { lpad, rpad } from './format.js';

export { formatBytes };

export function formatPoolList(pools: readonly PoolRow[]): string {
  const head = `${rpad('Name', 20)} ${rpad('Type', 5)} ${lpad('Capacity', 11)} ${lpad('Allocation', 11)} ${lpad('Available', 11)} ${lpad('Vols', 4)} Path`;
  const rows = pools.map(
    (p) => `${rpad(p.name, 20)} ${rpad(p.type, 5)} ${lpad(formatBytes(p.capacity), 11)} ${lpad(formatBytes(p.allocation), 11)} ${lpad(formatBytes(p.available), 11)} ${lpad(String(p.volumes), 4)} ${p.path}`,
  );
  return [head, ...rows].join('\n') + '\n';
}

export function formatVolList(vols: readonly VolumeRow[]): string {
  const head = `${rpad('Name', 24)} ${rpad('Format', 6)} ${lpad('Capacity', 11)} ${lpad('Allocation', 11)} ${rpad('Used-by', 16)} Path`;
  const rows = vols.map(
    (v) => `${rpad(v.name, 24)} ${rpad(v.format, 6)} ${lpad(formatBytes(v.capacity), 11)} ${lpad(formatBytes(v.allocation), 11)} ${rpad(v.usedBy.join(',') || '-', 16)} ${v.path}`,
  );
  return [head, ...rows].join('\n') + '\n';
}

/** Xen's block-list: 'Vdev  BE handle state evt-ch ring-ref BE-path'. We have no event channels or rings: '-'. */
export function formatBlockList(domid: number | undefined, rows: readonly BlockRow[]): string {
  const head = 'Vdev  BE handle state evt-ch ring-ref BE-path';
  const lines = rows.map(
    (r) => `${rpad(String(r.devid), 5)} ${rpad('0', 3)}${rpad('0', 6)} ${rpad(String(r.state), 5)} ${rpad('-', 6)} ${rpad('-', 8)} /local/domain/0/backend/vbd/${domid ?? '-'}/${r.devid}`,
  );
  return [head, ...lines].join('\n') + '\n';
}
