// Network install trees (--location URL): find the installer kernel and initrd in a
// Fedora/RHEL tree (.treeinfo), a Debian or Ubuntu mirror (dists/<suite>/main/installer-amd64/...),
// a Debian ISO tree (install.amd/) or an Ubuntu live tree (casper/), fetch them, and say which OS it is.

import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { osFromTreeInfo, osFromUrl, type OsEntry } from './catalogue.js';
import { InstallError } from './errors.js';

export interface InstallTree {
  /** The tree's URL, ending in '/'. */
  base: string;
  kernelUrl: string;
  initrdUrl: string;
  /** What kind of tree it was recognised as. */
  layout: 'treeinfo' | 'debian-mirror' | 'ubuntu-mirror' | 'debian-iso' | 'ubuntu-live' | 'pxeboot';
  os?: OsEntry;
  /** Text that identified the OS (.treeinfo family/version or .disk/info). */
  info?: string;
}

/** Kernel/initrd layouts tried in order when there is no .treeinfo (paths relative to the URL). */
const LAYOUTS: { layout: InstallTree['layout']; kernel: string; initrd: string }[] = [
  { layout: 'debian-mirror', kernel: 'current/images/netboot/debian-installer/amd64/linux', initrd: 'current/images/netboot/debian-installer/amd64/initrd.gz' },
  { layout: 'debian-mirror', kernel: 'main/installer-amd64/current/images/netboot/debian-installer/amd64/linux', initrd: 'main/installer-amd64/current/images/netboot/debian-installer/amd64/initrd.gz' },
  { layout: 'ubuntu-mirror', kernel: 'current/legacy-images/netboot/ubuntu-installer/amd64/linux', initrd: 'current/legacy-images/netboot/ubuntu-installer/amd64/initrd.gz' },
  { layout: 'ubuntu-mirror', kernel: 'current/images/netboot/ubuntu-installer/amd64/linux', initrd: 'current/images/netboot/ubuntu-installer/amd64/initrd.gz' },
  { layout: 'debian-iso', kernel: 'install.amd/vmlinuz', initrd: 'install.amd/initrd.gz' },
  { layout: 'ubuntu-live', kernel: 'casper/vmlinuz', initrd: 'casper/initrd' },
  { layout: 'pxeboot', kernel: 'images/pxeboot/vmlinuz', initrd: 'images/pxeboot/initrd.img' },
];

const PROBE_TIMEOUT_MS = 20_000;
/** Installer kernels and initrds are tens of MiB; anything past this is not one. */
export const MAX_BOOT_FILE_BYTES = 1024 * 1024 * 1024;

export function checkTreeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InstallError('InvalidInstall', `--location ${url}: not a URL; give an http:// or https:// install tree`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InstallError('InvalidInstall', `--location ${url}: only http:// and https:// install trees are supported (for an ISO use --cdrom)`);
  }
  if (parsed.username || parsed.password) throw new InstallError('InvalidInstall', `--location ${url}: credentials in the URL are not supported`);
  parsed.hash = '';
  parsed.search = '';
  return parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
}

async function getText(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'follow' });
    if (!res.ok) return undefined;
    const text = await res.text();
    return text.length > 1024 * 1024 ? undefined : text;
  } catch {
    return undefined;
  }
}

async function exists(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'follow' });
    return res.ok;
  } catch {
    return false;
  }
}

/** `.treeinfo` is an INI file: [general]/[release] family|name + version, [images-x86_64] kernel/initrd. */
function parseTreeinfo(text: string): { kernel?: string; initrd?: string; info?: string } {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!.trim(), current);
    } else if (line.includes('=') && !line.startsWith('#') && !line.startsWith(';')) {
      const eq = line.indexOf('=');
      current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  const images = sections.get('images-x86_64');
  const release = sections.get('release') ?? sections.get('general');
  const family = release?.get('name') ?? release?.get('family');
  const version = release?.get('version');
  return { kernel: images?.get('kernel'), initrd: images?.get('initrd'), info: family ? `${family}${version ? ` ${version}` : ''}` : undefined };
}

/** A relative path from a tree file: no absolute paths, no climbing out of the tree. */
function treeRelative(path: string): string | undefined {
  return /^[A-Za-z0-9._/-]+$/.test(path) && !path.startsWith('/') && !path.split('/').includes('..') ? path : undefined;
}

/** Find the installer's kernel and initrd in the tree at `url`, and the OS it installs where the tree says. */
export async function probeInstallTree(url: string): Promise<InstallTree> {
  const base = checkTreeUrl(url);
  const treeinfo = await getText(new URL('.treeinfo', base).href);
  if (treeinfo) {
    const t = parseTreeinfo(treeinfo);
    const kernel = t.kernel && treeRelative(t.kernel);
    const initrd = t.initrd && treeRelative(t.initrd);
    if (kernel && initrd) {
      return { base, layout: 'treeinfo', kernelUrl: new URL(kernel, base).href, initrdUrl: new URL(initrd, base).href, info: t.info, os: t.info ? osFromTreeInfo(t.info) : undefined };
    }
  }
  for (const l of LAYOUTS) {
    const kernelUrl = new URL(l.kernel, base).href;
    if (!(await exists(kernelUrl))) continue;
    const initrdUrl = new URL(l.initrd, base).href;
    if (!(await exists(initrdUrl))) continue;
    const diskInfo = l.layout === 'debian-iso' || l.layout === 'ubuntu-live' ? await getText(new URL('.disk/info', base).href) : undefined;
    const info = diskInfo?.trim();
    return { base, layout: l.layout, kernelUrl, initrdUrl, info, os: (info ? osFromTreeInfo(info) : undefined) ?? osFromUrl(base) };
  }
  throw new InstallError(
    'InstallTreeError',
    `--location ${url}: no installer kernel and initrd found (looked for .treeinfo, a Debian/Ubuntu installer-amd64 tree, install.amd/, casper/ and images/pxeboot/); ` +
      'point it at a distribution tree such as http://deb.debian.org/debian/dists/bookworm/main/installer-amd64/',
  );
}

/** Download `url` to `path` (created new), at most MAX_BOOT_FILE_BYTES. A failed download leaves no file. */
export async function downloadFile(url: string, path: string): Promise<void> {
  try {
    const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(30 * 60_000) });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_BOOT_FILE_BYTES) throw new Error(`${length} bytes is too large for an installer kernel or initrd`);
    let seen = 0;
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > MAX_BOOT_FILE_BYTES) body.destroy(new Error('larger than an installer kernel or initrd can be'));
    });
    await pipeline(body, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    // Never remove a file this call did not create.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(path, { force: true });
    throw new InstallError('InstallTreeError', `fetching ${url} failed: ${(err as Error).message}`);
  }
}
