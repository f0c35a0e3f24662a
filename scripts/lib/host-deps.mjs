// @ts-check
// The logic behind scripts/host-deps.mjs, kept free of side effects that are not passed in, so its
// unit tests run it against real temporary directories and canned /etc/os-release texts.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * One thing Dom0 needs from the host. `present` says how to tell it is there: `cmd:NAME` (an
 * executable on PATH or in an sbin directory) or `file:/path` (a file or directory), with
 * alternatives separated by ` | ` (distributions put the same file in different places).
 * `apt`/`dnf`/`pacman` name the package that provides it there; `null` means that distribution has
 * none, which is then said instead of guessed.
 * @typedef {{ part: 'app' | 'test', present: string, apt: string | null, dnf: string | null, pacman: string | null, why: string }} Need
 * @typedef {'apt' | 'dnf' | 'pacman'} Family
 */

/** Directories searched besides PATH: a normal user's PATH often lacks sbin, where daemons live. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * Whether one `present` spec is satisfied on this host.
 * @param {string} spec
 * @param {{ path?: string }} [env]
 */
export function isPresent(spec, env = process.env) {
  const dirs = [...(env.path ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  return spec.split('|').some((alt) => {
    const [kind, ...rest] = alt.trim().split(':');
    const what = rest.join(':');
    if (kind === 'file') return existsSync(what);
    if (kind === 'cmd') return dirs.some((dir) => isExecutable(join(dir, what)));
    throw new Error(`host-deps: unknown check "${alt.trim()}" (use cmd:NAME or file:/path)`);
  });
}

/** @param {string} file */
function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The needs of one part that are missing. The test part includes the app's: the tests run the app.
 * @param {readonly Need[]} needs
 * @param {'app' | 'test'} part
 * @param {(spec: string) => boolean} present
 */
export function missingNeeds(needs, part, present) {
  return needs.filter((need) => (part === 'test' || need.part === 'app') && !present(need.present));
}

/**
 * The key/value pairs of an os-release file (see os-release(5)).
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseOsRelease(text) {
  /** @type {Record<string, string>} */
  const fields = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) fields[match[1] ?? ''] = (match[2] ?? '').replace(/^(["'])(.*)\1$/, '$2');
  }
  return fields;
}

/**
 * Which package manager family a distribution uses, from its os-release ID and ID_LIKE.
 * @param {Record<string, string>} osRelease
 * @returns {Family | undefined}
 */
export function packageFamily(osRelease) {
  const ids = [osRelease.ID ?? '', ...(osRelease.ID_LIKE ?? '').split(/\s+/)].filter(Boolean);
  for (const id of ids) {
    if (['debian', 'ubuntu'].includes(id)) return 'apt';
    if (['fedora', 'rhel', 'centos'].includes(id)) return 'dnf';
    if (['arch', 'archlinux'].includes(id)) return 'pacman';
  }
  return undefined;
}

/**
 * The packages to install for `missing` on `family` (each once, in table order), and the needs
 * that family has no package for.
 * @param {readonly Need[]} missing
 * @param {Family} family
 */
export function packagesFor(missing, family) {
  /** @type {string[]} */
  const packages = [];
  /** @type {Need[]} */
  const unavailable = [];
  for (const need of missing) {
    const pkg = need[family];
    if (pkg === null) unavailable.push(need);
    else if (!packages.includes(pkg)) packages.push(pkg);
  }
  return { packages, unavailable };
}

/**
 * The one command that installs `packages` on `family`, as a user types it.
 * @param {Family} family
 * @param {readonly string[]} packages
 * @param {{ root: boolean }} opts
 */
export function installCommand(family, packages, { root }) {
  const sudo = root ? '' : 'sudo ';
  const list = packages.join(' ');
  switch (family) {
    case 'apt':
      // A fresh machine (or container) may have empty package lists: update first.
      return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${list}`;
    case 'dnf':
      return `${sudo}dnf install -y ${list}`;
    case 'pacman':
      return `${sudo}pacman -S --needed ${list}`;
  }
}

/**
 * What to tell a user who must install the missing needs themselves: the command for their
 * distribution, or (unknown distribution) the Debian names to look for.
 * @param {{ missing: readonly Need[], family: Family | undefined, root: boolean, part: 'app' | 'test' }} opts
 */
export function manualInstructions({ missing, family, root, part }) {
  const task = part === 'app' ? 'Dom0 needs' : 'The tests need';
  const lines = [`${task} from this host: ${missing.map((n) => `${n.apt ?? n.present} (${n.why})`).join('; ')}.`];
  if (!family) {
    lines.push('This distribution is not one host-deps knows (Debian/Ubuntu, Fedora, Arch): install the equivalents of these Debian packages.');
    return lines.join('\n');
  }
  const { packages, unavailable } = packagesFor(missing, family);
  if (packages.length > 0) lines.push(`Install them with:\n  ${installCommand(family, packages, { root })}`);
  for (const need of unavailable) lines.push(`No ${family} package provides ${need.present} (${need.why}): ${task.toLowerCase()} a Debian or Ubuntu host for it.`);
  return lines.join('\n');
}
