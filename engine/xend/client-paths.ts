// Which host paths a client may name. Local clients (the unix socket: xm, the user's own tools)
// act as the user. Remote ones (web mode, other engines) hold the token, which is full control of
// the engine but not of the host: every path they name, in any method, goes through the one rule
// of engine/common/safe-path.ts, with the same roots the web file browser lists.

import type { RequestContext } from '../protocol/common/define.js';
import type { DomainConfig } from '../config/index.js';
import { checkClientPath, ClientPathError } from '../common/safe-path.js';

export function isLocal(ctx: RequestContext): boolean {
  return ctx.connection.transport === 'unix';
}

export class ClientPaths {
  readonly #o: { dataDir: string; browseFolders: readonly string[]; poolDirs: () => Promise<string[]> };

  constructor(opts: { dataDir: string; browseFolders: readonly string[]; poolDirs: () => Promise<string[]> }) {
    this.#o = opts;
  }

  /** The data dir first: a listing without a path starts there. */
  async roots(): Promise<string[]> {
    const pools = await this.#o.poolDirs().catch(() => []);
    return [...new Set([this.#o.dataDir, ...pools, ...this.#o.browseFolders])];
  }

  /** The path, unchanged, when the client may name it; ClientPathError (code InvalidPath) otherwise. */
  async check(ctx: RequestContext, path: string, what: string): Promise<string> {
    if (!isLocal(ctx)) checkClientPath(path, await this.roots(), what);
    return path;
  }

  /** Every host file a domain config names: disks (and no block devices), kernel, ramdisk (bootloader is never run). */
  async checkConfig(ctx: RequestContext, config: DomainConfig, before?: DomainConfig): Promise<void> {
    if (isLocal(ctx)) return;
    // An edit (domain.update) is checked for what it adds: paths the definition already named were
    // put there by a local user, and refusing them would make a domain whose kernel sits in /boot
    // uneditable from the GUI (even its memory).
    const had = new Set(before?.disk.map((d) => `${d.backend}:${d.target}`) ?? []);
    for (const d of config.disk) {
      if (d.target === '' || had.has(`${d.backend}:${d.target}`)) continue;
      if (d.backend === 'phy') throw new ClientPathError(`disk ${d.vdev}: remote clients cannot use host block devices (phy:${d.target})`);
      await this.check(ctx, d.target, `disk ${d.vdev}`);
    }
    for (const key of ['kernel', 'ramdisk'] as const) {
      const value = config[key];
      if (value && value !== before?.[key]) await this.check(ctx, value, key);
    }
  }
}
