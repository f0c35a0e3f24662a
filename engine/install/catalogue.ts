// The OS catalogue (resources/os-catalogue.json, in the spirit of libosinfo): recommended memory,
// disk, vCPUs, disk bus and NIC model per OS, and the clues that recognise its install media.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiskBus } from './types.js';

export interface OsEntry {
  id: string;
  name: string;
  family: 'linux' | 'windows' | 'bsd' | 'other';
  /** MiB */
  memory: number;
  /** GiB */
  disk: number;
  vcpus: number;
  diskBus: DiskBus;
  nic: string;
  /** Regexes on an ISO's volume label. */
  isoLabel?: string[];
  /** Regexes on a tree's `.treeinfo` ('<family> <version>') or `.disk/info` text. */
  info?: string[];
  /** Debian/Ubuntu suite names, as in a mirror's dists/<codename>/. */
  codename?: string[];
}

export const GENERIC_OS = 'generic';

/** The catalogue file, found upward from this module (engine/install in the sources, out/engine/install when built). */
function cataloguePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'resources', 'os-catalogue.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('resources/os-catalogue.json not found next to the engine');
}

let cached: OsEntry[] | undefined;

export function loadCatalogue(path?: string): OsEntry[] {
  if (!path && cached) return cached;
  const raw = JSON.parse(readFileSync(path ?? cataloguePath(), 'utf8')) as { os?: unknown };
  if (!Array.isArray(raw.os)) throw new Error('os-catalogue.json: no "os" list');
  const entries = raw.os as OsEntry[];
  for (const e of entries) {
    if (typeof e.id !== 'string' || typeof e.name !== 'string' || !(e.memory > 0) || !(e.disk > 0) || !(e.vcpus > 0)) {
      throw new Error(`os-catalogue.json: bad entry ${JSON.stringify(e).slice(0, 80)}`);
    }
  }
  if (!path) cached = entries;
  return entries;
}

export function findOs(id: string, catalogue = loadCatalogue()): OsEntry | undefined {
  return catalogue.find((e) => e.id === id);
}

export function genericOs(catalogue = loadCatalogue()): OsEntry {
  return findOs(GENERIC_OS, catalogue)!;
}

function matches(patterns: string[] | undefined, text: string): boolean {
  return (patterns ?? []).some((p) => new RegExp(p, 'i').test(text));
}

/** The OS whose ISO volume labels match this label. */
export function osFromIsoLabel(label: string, catalogue = loadCatalogue()): OsEntry | undefined {
  return catalogue.find((e) => matches(e.isoLabel, label.trim()));
}

/** The OS described by a `.treeinfo` ('Fedora 40') or `.disk/info` ('Debian GNU/Linux 12.5.0 "Bookworm" ...') text. */
export function osFromTreeInfo(text: string, catalogue = loadCatalogue()): OsEntry | undefined {
  return catalogue.find((e) => matches(e.info, text.trim()));
}

/** The OS of a Debian/Ubuntu mirror URL (`.../dists/bookworm/main/installer-amd64/`). */
export function osFromUrl(url: string, catalogue = loadCatalogue()): OsEntry | undefined {
  const suite = /\/dists\/([a-z]+)(?:[-/]|$)/.exec(url)?.[1];
  return suite ? catalogue.find((e) => e.codename?.includes(suite)) : undefined;
}
