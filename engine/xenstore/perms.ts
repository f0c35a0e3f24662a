// Node permissions with Xen's rules: a list of `<letter><domid>` (r read, w write, b both, n none);
// the first entry names the owner and is also the default for domains not listed; the owner and
// dom0 always have full access.

import { XenstoreError } from './errors.js';

export type Access = 'r' | 'w' | 'b' | 'n';

export interface Permission {
  domid: number;
  access: Access;
}

/** Highest domain id a permission may name (DOMID_FIRST_RESERVED - 1). */
export const MAX_DOMID = 0x7fef;

const PERM = /^([rwbn])(0|[1-9][0-9]{0,4})$/;

export function parsePermission(text: string): Permission {
  const m = PERM.exec(text);
  const domid = m ? Number(m[2]) : NaN;
  if (!m || domid > MAX_DOMID) {
    throw new XenstoreError('EINVAL', `invalid permission ${JSON.stringify(text)}: use r, w, b or n followed by a domain id, e.g. r1`);
  }
  return { access: m[1] as Access, domid };
}

export function parsePermissions(texts: readonly string[]): Permission[] {
  if (texts.length === 0) throw new XenstoreError('EINVAL', 'a permission list needs at least the owner entry');
  return texts.map(parsePermission);
}

export function formatPermission(p: Permission): string {
  return `${p.access}${p.domid}`;
}

export function formatPermissions(perms: readonly Permission[]): string[] {
  return perms.map(formatPermission);
}

export function owner(perms: readonly Permission[]): number {
  return perms[0]?.domid ?? 0;
}

export interface Rights {
  read: boolean;
  write: boolean;
  /** May change the permissions (Xen's XS_PERM_OWNER). */
  own: boolean;
}

/** Xen's perm_for_conn(). */
export function rightsOf(domid: number, perms: readonly Permission[]): Rights {
  if (domid === 0 || owner(perms) === domid) return { read: true, write: true, own: true };
  const entry = perms.slice(1).find((p) => p.domid === domid) ?? perms[0];
  const access = entry?.access ?? 'n';
  return { read: access === 'r' || access === 'b', write: access === 'w' || access === 'b', own: false };
}
