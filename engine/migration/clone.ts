// Clone (virt-clone's job): a new domain from a stopped one, with a new name, a new uuid, new MACs
// and its own disks: full copies (qemu-img convert keeps them sparse) or linked clones (a qcow2
// overlay whose backing file is the source's image, so the source must then stay unchanged).
// Read-only disks and CD-ROMs are shared. Nothing is left behind on failure; the definition is
// written last.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dom0Paths } from '../common/paths.js';
import type { DiskSpec, DomainConfig } from '../config/index.js';
import { DomainError, randomXenMac, type DomainDefinition, type DomainDefinitions, type DomainManager } from '../domains/index.js';
import { MigrationError, qemuImgFailure } from './errors.js';
import { QemuImg } from '../qemu/index.js';

export const DOMAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export interface CloneOptions {
  /** qcow2 overlays backed by the source's images instead of full copies. */
  linked?: boolean;
  /** Where the new images go; default <data>/images. */
  imagesDir?: string;
}

export async function cloneDomain(
  ctx: { manager: DomainManager; definitions: DomainDefinitions; paths: Dom0Paths },
  source: string,
  newName: string,
  opts: CloneOptions = {},
): Promise<DomainDefinition> {
  if (!DOMAIN_NAME.test(newName) || newName === 'Domain-0') {
    throw new MigrationError('CloneError', `'${newName}' is not a valid domain name: use 1-64 letters, digits, '_', '.' or '-'`);
  }
  if (ctx.manager.lookup(newName) || (await ctx.definitions.get(newName))) {
    throw new DomainError('DomainExists', `domain '${newName}' already exists; choose another name`);
  }
  const running = ctx.manager.lookup(source);
  if (running) {
    throw new DomainError('InvalidState', `domain '${running.name}' is ${running.status}; shut it down before cloning it (its disks are in use)`);
  }
  const def = await ctx.definitions.get(source);
  if (!def) throw new DomainError('NoSuchDomain', `Domain '${source}' does not exist.`);
  const dir = opts.imagesDir ?? ctx.paths.imagesDir;
  await mkdir(dir, { recursive: true });
  const made: string[] = [];
  try {
    const disks: DiskSpec[] = [];
    for (const disk of def.config.disk) {
      if (disk.devtype !== 'disk' || disk.access === 'r' || disk.target === '') {
        disks.push(disk);
        continue;
      }
      if (disk.backend === 'phy') {
        throw new MigrationError('CloneError', `disk ${disk.vdev} is a block device (${disk.target}); copy it yourself and clone a domain with file-backed disks`);
      }
      const format = opts.linked ? 'qcow2' : disk.format;
      const target = join(dir, `${newName}-${disk.vdev}.${format === 'raw' ? 'img' : format}`);
      if (existsSync(target)) throw new MigrationError('CloneError', `${target} exists already; move it away or choose another name`);
      made.push(target);
      const img = new QemuImg();
      await (opts.linked
        ? img.create({ path: target, format: 'qcow2', backing: { path: disk.target, format: disk.format } })
        : img.convert({ source: disk.target, sourceFormat: disk.format, format: disk.format, target })
      ).catch(qemuImgFailure('CloneError'));
      disks.push({ ...disk, target, format, backend: format === 'raw' ? disk.backend : 'tap' });
    }
    const inUse = new Set(ctx.manager.list().flatMap((d) => d.macs));
    const config: DomainConfig = {
      ...def.config,
      name: newName,
      uuid: randomUUID(),
      disk: disks,
      vif: def.config.vif.map((vif) => {
        const mac = randomXenMac(inUse);
        inUse.add(mac);
        return { ...vif, mac };
      }),
    };
    return await ctx.definitions.define(config);
  } catch (err) {
    for (const path of made) await rm(path, { force: true });
    throw err;
  }
}

