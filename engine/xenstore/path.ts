// Node names, as Xen's xenstored accepts them (docs/misc/xenstore.txt): absolute `/a/b`, or
// relative to the caller's home `/local/domain/<domid>`; watches may also name the special
// events `@introduceDomain` / `@releaseDomain`.

import { Buffer } from 'node:buffer';
import { XenstoreError } from './errors.js';

/** XENSTORE_ABS_PATH_MAX. */
export const MAX_PATH_BYTES = 3072;
/** XENSTORE_PAYLOAD_MAX: a value is at most one message payload. */
export const MAX_VALUE_BYTES = 4096;

export const INTRODUCE_DOMAIN = '@introduceDomain';
export const RELEASE_DOMAIN = '@releaseDomain';

const ABSOLUTE = /^\/(?:[A-Za-z0-9\-_@]+(?:\/[A-Za-z0-9\-_@]+)*)?$/;
const SPECIAL = /^@[A-Za-z0-9\-_@/]+$/;

export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/** The absolute form of `path` for a caller; EINVAL for anything Xen would refuse. */
export function canonicalPath(path: string, domid: number): string {
  if (path === '') throw new XenstoreError('EINVAL', 'empty path');
  const abs = path.startsWith('/') ? path : `${domainPath(domid)}/${path}`;
  if (!ABSOLUTE.test(abs)) {
    throw new XenstoreError('EINVAL', `invalid path ${JSON.stringify(path)}: use /-separated names of [A-Za-z0-9-_@], no trailing or double /`);
  }
  // Paths are ASCII here, so length is bytes. Xen 4.x calls an over-long name invalid (EINVAL).
  if (abs.length > MAX_PATH_BYTES) throw new XenstoreError('EINVAL', `path is ${abs.length} bytes, over ${MAX_PATH_BYTES}`);
  return abs;
}

export function isSpecialPath(path: string): boolean {
  return path.startsWith('@');
}

/** Watch paths: special names are kept as they are, everything else is canonicalised. */
export function canonicalWatchPath(path: string, domid: number): string {
  if (!isSpecialPath(path)) return canonicalPath(path, domid);
  if (!SPECIAL.test(path) || path.length > MAX_PATH_BYTES) throw new XenstoreError('EINVAL', `invalid special watch path ${JSON.stringify(path)}`);
  return path;
}

export function checkValue(value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_VALUE_BYTES) throw new XenstoreError('E2BIG', `value is ${bytes} bytes, over ${MAX_VALUE_BYTES}`);
}

export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Xen's is_child(): `child` is `parent` or below it. */
export function isAtOrBelow(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}
