// Dom0's package.json, found from this file wherever the build put it (out/engine/..., a bundle,
// /usr/lib/dom0/...): the nearest package.json named "dom0" above it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  /** The directory holding package.json (the checkout, or /usr/lib/dom0 once installed). */
  root: string;
  version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dom0') return (cached = { root: dir, version: pkg.version ?? '0' });
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Dom0's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const packageVersion = (): string => packageInfo().version;
