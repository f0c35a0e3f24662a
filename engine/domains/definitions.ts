// Defined domains (xm new / start / delete): xm config files in <config>/domains/<name>.cfg.
// A definition is validated before it is written, and written atomically, so a bad or
// interrupted `xm new` never leaves a broken file behind.
//
// A defined domain has a fixed identity, as under Xen's xend (managed domains) and libvirt: the
// uuid and each vif's MAC are chosen when it is defined and written into its file, so every start,
// save, restore and migration uses the same ones (the guest's SMBIOS uuid and NIC addresses do not
// change under it). Redefining a domain keeps them; clones choose new ones.

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { checkDomainName, loadDomainConfigText, serializeDomainConfig, type ConfigIssue, type DomainConfig } from '../config/index.js';
import { DomainError } from './errors.js';
import { randomXenMac } from './mac.js';

export interface DomainDefinitionsOptions {
  /** MACs running domains use (a new MAC must not clash with them either). */
  macsInUse?: () => Iterable<string>;
}

export interface DomainDefinition {
  name: string;
  path: string;
  config: DomainConfig;
  warnings: ConfigIssue[];
}

export class DomainDefinitions {
  readonly #dir: string;
  readonly #parsed = new Map<string, { key: string; def: DomainDefinition }>();
  readonly #macsInUse: () => Iterable<string>;

  constructor(dir: string, opts: DomainDefinitionsOptions = {}) {
    this.#dir = dir;
    this.#macsInUse = opts.macsInUse ?? (() => []);
  }

  /** Every way a client names a definition comes through here: a name that is not one never becomes a path. */
  pathOf(name: string): string {
    const why = checkDomainName(name);
    if (why && name !== 'Domain-0') throw new DomainError('InvalidName', `'${name}' is not a domain name: ${why}`);
    return join(this.#dir, `${name}.cfg`);
  }

  async list(): Promise<DomainDefinition[]> {
    let files: string[];
    try {
      files = await readdir(this.#dir);
    } catch {
      return [];
    }
    const defs: DomainDefinition[] = [];
    for (const file of files.filter((f) => f.endsWith('.cfg')).sort()) {
      try {
        defs.push(await this.#load(join(this.#dir, file)));
      } catch {
        // A file someone broke by hand is reported by get(); list() shows the rest.
      }
    }
    return defs;
  }

  async get(name: string): Promise<DomainDefinition | undefined> {
    try {
      return await this.#load(this.pathOf(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Store a config (xm new). Replaces an existing definition of the same name. */
  async define(config: DomainConfig): Promise<DomainDefinition> {
    if (config.name === 'Domain-0') throw new DomainError('PrivilegedDomain', 'Domain-0 is the host; choose another name');
    await mkdir(this.#dir, { recursive: true });
    const path = this.pathOf(config.name);
    await writeFileAtomic(path, serializeDomainConfig(await this.#withIdentity(config)));
    return this.#load(path);
  }

  /**
   * Gives definitions written before identities were fixed (no uuid, or a vif without mac=) their
   * uuid and MACs now, once, so that from here on they keep them. Returns the names it changed;
   * a file someone broke by hand is left alone.
   */
  async fixIdentities(): Promise<string[]> {
    const fixed: string[] = [];
    for (const def of await this.list()) {
      if (def.config.uuid !== undefined && def.config.vif.every((v) => v.mac !== undefined)) continue;
      await this.define(def.config);
      fixed.push(def.name);
    }
    return fixed;
  }

  /** The config with its uuid and every vif's MAC filled in: the previous definition's, else new ones. */
  async #withIdentity(config: DomainConfig): Promise<DomainConfig> {
    const needsMac = config.vif.some((v) => v.mac === undefined);
    if (config.uuid !== undefined && !needsMac) return config;
    const previous = (await this.get(config.name).catch(() => undefined))?.config;
    const uuid = config.uuid ?? previous?.uuid ?? randomUUID();
    if (!needsMac) return { ...config, uuid };
    const inUse = new Set<string>(this.#macsInUse());
    for (const def of await this.list()) {
      if (def.name !== config.name) for (const v of def.config.vif) if (v.mac !== undefined) inUse.add(v.mac);
    }
    for (const v of config.vif) if (v.mac !== undefined) inUse.add(v.mac);
    const vif = config.vif.map((v, i) => {
      if (v.mac !== undefined) return v;
      const kept = previous?.vif[i]?.mac;
      const mac = kept !== undefined && !inUse.has(kept) ? kept : randomXenMac(inUse);
      inUse.add(mac);
      return { ...v, mac };
    });
    return { ...config, uuid, vif };
  }

  async remove(name: string): Promise<void> {
    if (!(await this.get(name))) throw new DomainError('NoSuchDomain', `Domain '${name}' does not exist.`);
    await rm(this.pathOf(name));
    this.#parsed.delete(this.pathOf(name));
  }

  async #load(path: string): Promise<DomainDefinition> {
    // Parsing and validating a config costs about half a millisecond of blocked event loop, and
    // every `xm list` (and every GUI refresh) loads them all: reuse the parse while the file is
    // the same one, unchanged (an edit by hand or a rename changes mtime, size or inode).
    const st = await stat(path);
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const cached = this.#parsed.get(path);
    if (cached?.key === key) return { ...cached.def, config: structuredClone(cached.def.config) };
    const text = await readFile(path, 'utf8');
    const { config, warnings } = loadDomainConfigText(text, path);
    const def = { name: config.name, path, config, warnings };
    this.#parsed.set(path, { key, def: { ...def, config: structuredClone(config) } });
    return def;
  }
}
