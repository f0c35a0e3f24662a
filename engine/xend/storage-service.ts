// Handlers of engine/protocol/common/xend-api-storage.ts: pools and volumes (engine/storage), and
// disks of domains (hotplug in engine/domains/hotplug.ts, plus the domain's definition file).
// Remote clients (anything but the unix socket) may only name images inside a pool.

import { randomUUID } from 'node:crypto';
import type { DiskSpec, DomainConfig } from '../config/index.js';
import { blockAttach, blockDetach, DomainError, liveResize, mediaChange, type DomainDefinitions, type DomainManager } from '../domains/index.js';
import { coded, deviceConfigOf, saveDefinitionChange } from './device-config.js';
import type { Handlers, RequestContext } from '../protocol/common/define.js';
import { isLocal } from './client-paths.js';
import type { storageMethods } from '../protocol/common/xend-api-storage.js';
import { StoragePools } from '../storage/index.js';
import type { Dom0Paths } from '../common/paths.js';
import { parseDiskSpec } from '../config/index.js';
import { vbdDevid } from './xenstore-sync.js';

export interface StorageServiceOptions {
  manager: DomainManager;
  definitions: DomainDefinitions;
  paths: Dom0Paths;
  qemuImg: string;
  broadcast: {
    changed(pool: string): void;
    progress(p: { job: string; pool: string; volume: string; percent: number }): void;
    definition(name: string): void;
  };
}

export { isLocal };

export class StorageService {
  readonly pools: StoragePools;
  readonly #o: StorageServiceOptions;

  constructor(opts: StorageServiceOptions) {
    this.#o = opts;
    this.pools = new StoragePools({
      paths: opts.paths,
      qemuImg: opts.qemuImg,
      usedBy: () => this.#usedBy(),
      liveResize: (path, bytes) => liveResize(opts.manager, path, bytes),
      onChange: (pool) => opts.broadcast.changed(pool),
    });
  }

  handlers(): Handlers<typeof storageMethods> {
    const { manager } = this.#o;
    const pools = this.pools;
    const progress = (job: string | undefined, pool: string, volume: string) => {
      const id = job ?? randomUUID();
      let last = -1;
      return (percent: number) => {
        // qemu-img reports every 1%: enough for a progress bar, no need to throttle further.
        if (Math.floor(percent) === last) return;
        last = Math.floor(percent);
        this.#o.broadcast.progress({ job: id, pool, volume, percent });
      };
    };
    return {
      'storage.poolList': () => pools.listPools(),
      'storage.poolDefine': async (p, ctx) => {
        if (!isLocal(ctx)) throw Object.assign(new Error('only local clients may add host folders as pools'), { code: 'InvalidPath' });
        return pools.definePool(p);
      },
      'storage.poolRemove': async ({ name }) => {
        await pools.removePool(name);
        return null;
      },
      'storage.volList': ({ pool }) => pools.listVolumes(pool),
      'storage.volCreate': (p, ctx) => pools.createVolume({ ...p, local: isLocal(ctx) }),
      'storage.volResize': (p) => pools.resizeVolume(p),
      'storage.volClone': (p) => pools.cloneVolume({ ...p, onProgress: progress(p.job, p.targetPool ?? p.pool, p.newName) }),
      'storage.volImport': (p, ctx) => pools.importVolume({ ...p, local: isLocal(ctx), onProgress: progress(p.job, p.pool, p.name) }),
      'storage.volDelete': async (p) => {
        await pools.deleteVolume(p);
        return null;
      },
      'domain.blockList': async ({ ref }) => {
        const { config, running } = await deviceConfigOf(manager, this.#o.definitions, ref);
        return config.disk.map((d) => ({ devid: vbdDevid(d.vdev), vdev: d.vdev, backend: d.backend, target: d.target, format: d.format, devtype: d.devtype, access: d.access, state: running ? 4 : 1 }));
      },
      'domain.blockAttach': async ({ ref, spec }, ctx) => {
        const disk = coded(() => parseDiskSpec(spec));
        if (disk.target !== '') disk.target = await this.#checkTarget(disk, ctx);
        const { running, name } = await deviceConfigOf(manager, this.#o.definitions, ref);
        const live = running !== undefined;
        if (live) await blockAttach(manager, running, disk);
        await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name, (c) => {
          if (c.disk.some((d) => d.vdev === disk.vdev)) {
            if (live) return c; // an older definition already had it
            throw new DomainError('InvalidState', `domain '${name}' already has a disk ${disk.vdev}; choose another device name`);
          }
          return { ...c, disk: [...c.disk, disk] };
        }, !live);
        this.#touchPools();
        return { live, vdev: disk.vdev, path: disk.target || undefined };
      },
      'domain.blockDetach': async ({ ref, dev }) => {
        const { running, name, config } = await deviceConfigOf(manager, this.#o.definitions, ref);
        const match = (d: DiskSpec) => d.vdev === dev || String(vbdDevid(d.vdev)) === dev;
        let vdev: string;
        if (running !== undefined) {
          vdev = (await blockDetach(manager, running, dev, vbdDevid)).vdev;
        } else {
          const disk = config.disk.find(match);
          if (!disk) throw new DomainError('InvalidState', `domain '${name}' has no disk ${dev} (see block-list)`);
          vdev = disk.vdev;
        }
        await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name, (c) => ({ ...c, disk: c.disk.filter((d) => d.vdev !== vdev) }), running === undefined);
        this.#touchPools();
        return { live: running !== undefined, vdev };
      },
      'domain.mediaChange': async ({ ref, vdev, target, format }, ctx) => {
        let real = '';
        if (target !== '') real = await this.#checkTarget({ backend: 'file', target } as DiskSpec, ctx);
        const { running, name, config } = await deviceConfigOf(manager, this.#o.definitions, ref);
        if (running !== undefined) await mediaChange(manager, running, vdev, real, format);
        else if (!config.disk.some((d) => d.vdev === vdev && d.devtype === 'cdrom')) throw new DomainError('InvalidState', `domain '${name}' has no CD-ROM drive ${vdev}`);
        await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name,
          (c) => ({ ...c, disk: c.disk.map((d) => (d.vdev === vdev ? { ...d, target: real, backend: real === '' ? d.backend : 'file', format: real === '' ? d.format : format } : d)) }),
          running === undefined,
        );
        return { live: running !== undefined };
      },
    };
  }



  /** The real path of a disk image a client names; remote clients only inside a pool, never phy:. */
  async #checkTarget(disk: Pick<DiskSpec, 'backend' | 'target'>, ctx: RequestContext): Promise<string> {
    if (disk.backend === 'phy') {
      if (!isLocal(ctx)) throw Object.assign(new Error('remote clients cannot attach host block devices (phy:)'), { code: 'InvalidPath' });
      return disk.target;
    }
    return this.pools.checkPath(disk.target, isLocal(ctx));
  }

  #touchPools(): void {
    // used-by columns changed: every pool view re-reads (cheap).
    void this.pools.listPools().then((ps) => ps.forEach((p) => this.#o.broadcast.changed(p.name))).catch(() => undefined);
  }

  async #usedBy(): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    const add = (config: DomainConfig) => {
      for (const d of config.disk) {
        if (d.target === '') continue;
        const list = map.get(d.target) ?? [];
        if (!list.includes(config.name)) list.push(config.name);
        map.set(d.target, list);
      }
    };
    for (const info of this.#o.manager.list()) add(this.#o.manager.configOf(info.domid));
    for (const def of await this.#o.definitions.list()) add(def.config);
    return map;
  }
}

