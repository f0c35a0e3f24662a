// Output formats of xm's network commands: Xen's network-list and our net-list. Pure functions
// over the API's rows.

import type { NetworkRow, NicRow } from '../../protocol/common/xend-api-network.js';
import { rpad } from './format.js';

/** Xen's network-list: 'Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path'. No event channels or rings here: '-'. */
export function formatNicList(domid: number | undefined, rows: readonly NicRow[]): string {
  const head = 'Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path';
  const lines = rows.map(
    (r) =>
      `${rpad(String(r.idx), 3)} ${rpad('0', 3)}${rpad(r.mac, 17)}    ${rpad(String(r.idx), 3)}   ${rpad(String(r.state), 3)}    ${rpad('-', 3)}   ${rpad('-', 5)}/${rpad('-', 5)}   /local/domain/0/backend/vif/${domid ?? '-'}/${r.idx}`,
  );
  return [head, ...lines].join('\n') + '\n';
}

export function formatNetList(rows: readonly NetworkRow[]): string {
  const head = `${rpad('Name', 16)} ${rpad('Type', 9)} ${rpad('Bridge', 15)} ${rpad('State', 8)} Ports`;
  const lines = rows.map((n) => `${rpad(n.name, 16)} ${rpad(n.type, 9)} ${rpad(n.bridge ?? '-', 15)} ${rpad(n.active ? 'active' : 'inactive', 8)} ${n.ports.join(',') || '-'}`);
  return [head, ...lines].join('\n') + '\n';
}
