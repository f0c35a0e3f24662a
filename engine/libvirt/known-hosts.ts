// OpenSSH's known_hosts, read the way `ssh` reads it: plain and hashed (|1|salt|hmac) host
// patterns, `[host]:port` for other ports, wildcards and negation, @revoked markers. A host key
// is known (same key), changed (another key of the same type is recorded: refuse), or unknown
// (ask the user, showing the SHA256 fingerprint, and record it once accepted).

import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type HostKeyVerdict = 'known' | 'changed' | 'unknown' | 'revoked';

interface Entry {
  marker?: string;
  patterns: string;
  type: string;
  key: Buffer;
}

/** OpenSSH's `SHA256:<base64, no padding>` fingerprint of a public key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH public key blob (e.g. `ssh-ed25519`). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** How the host is written in known_hosts: `host`, or `[host]:port` when the port is not 22. */
export function hostEntryName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function parse(text: string): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const f = t.split(/\s+/);
    let marker: string | undefined;
    if (f[0]!.startsWith('@')) marker = f.shift();
    if (f.length < 3) continue;
    out.push({ marker, patterns: f[0]!, type: f[1]!, key: Buffer.from(f[2]!, 'base64') });
  }
  return out;
}

function glob(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function matches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), name)) return false;
    } else if (glob(p, name)) hit = true;
  }
  return hit;
}

export class KnownHosts {
  constructor(readonly path: string) {}

  private entries(): Entry[] {
    try {
      return parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Key types recorded for this host, so the SSH handshake can prefer one we can check. */
  knownTypes(host: string, port: number): string[] {
    const name = hostEntryName(host, port);
    return [...new Set(this.entries().filter((e) => !e.marker && matches(e.patterns, name)).map((e) => e.type))];
  }

  check(host: string, port: number, blob: Buffer): HostKeyVerdict {
    const name = hostEntryName(host, port);
    const type = keyTypeOf(blob);
    let sameType = false;
    for (const e of this.entries()) {
      if (!matches(e.patterns, name) && e.marker !== '@revoked') continue;
      if (e.marker === '@revoked') {
        if (e.key.equals(blob)) return 'revoked';
        continue;
      }
      if (e.marker) continue; // @cert-authority: certificates are not offered by this client.
      if (e.key.equals(blob)) return 'known';
      if (e.type === type) sameType = true;
    }
    return sameType ? 'changed' : 'unknown';
  }

  /** Records an accepted key, creating ~/.ssh (0700) and the file (0600) as ssh does. */
  add(host: string, port: number, blob: Buffer): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const line = `${hostEntryName(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
    const needsNewline = existsSync(this.path) && !readFileSync(this.path, 'utf8').endsWith('\n') && readFileSync(this.path, 'utf8') !== '';
    appendFileSync(this.path, (needsNewline ? '\n' : '') + line, { mode: 0o600 });
  }
}
