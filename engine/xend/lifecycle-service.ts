// Handlers of xend-api-lifecycle.ts: save/restore, snapshots, clones, backups, migration. Thin:
// paths are checked here, the work is done by engine/migration.

import { existsSync, statSync } from 'node:fs';
import type { Dom0Paths } from '../common/paths.js';
import type { DomainDefinitions, DomainManager } from '../domains/index.js';
import { backupDomain, cloneDomain, managedSave, migrateDomain, MigrationError, restoreBackup, restoreDomain, saveDomain, Snapshots } from '../migration/index.js';
import type { Handlers } from '../protocol/common/define.js';
import type { LifecycleMethods } from '../protocol/common/xend-api-lifecycle.js';
import { checkOutputPath } from './service.js';
import type { ClientPaths } from './client-paths.js';
import type { RequestContext } from '../protocol/common/define.js';
import { isSafeAbsolutePath } from '../common/safe-path.js';

export interface LifecycleServiceOptions {
  manager: DomainManager;
  definitions: DomainDefinitions;
  paths: Dom0Paths;
  notify?: (change: { kind: 'defined' | 'undefined'; name: string }) => void;
  relocationToken?: string;
  clientPaths?: ClientPaths;
}

export function lifecycleHandlers(o: LifecycleServiceOptions): Handlers<LifecycleMethods> {
  const { manager } = o;
  const snapshots = new Snapshots(o);
  const check = (ctx: RequestContext, path: string, what: string) => o.clientPaths?.check(ctx, path, what) ?? Promise.resolve(path);
  return {
    'domain.save': async ({ ref, path, keepRunning }, ctx) => {
      checkOutputPath(await check(ctx, path, 'save file'));
      return saveDomain(manager, ref, path, { keepRunning, signal: ctx.signal });
    },
    'domain.managedSave': async ({ name }, ctx) => {
      if (!(await o.definitions.get(name))) {
        throw new MigrationError('SaveFailed', `domain '${name}' is not defined (started from a file): save it with xm save ${name} <file> instead`);
      }
      return managedSave(manager, o.paths.dataDir, name, { signal: ctx.signal });
    },
    'domain.restore': async ({ path, paused }, ctx) => {
      checkInputFile(await check(ctx, path, 'save file'));
      const info = await restoreDomain(manager, path, { paused });
      return { name: info.name, domid: info.domid };
    },
    'snapshot.create': ({ domain, name, description }) => snapshots.create(domain, name, description),
    'snapshot.list': ({ domain }) => snapshots.list(domain),
    'snapshot.revert': ({ domain, name }) => snapshots.revert(domain, name),
    'snapshot.delete': async ({ domain, name }) => {
      await snapshots.delete(domain, name);
      return null;
    },
    'domain.clone': async ({ source, name, linked }) => {
      const def = await cloneDomain(o, source, name, { linked });
      o.notify?.({ kind: 'defined', name: def.name });
      return { name: def.name, path: def.path, uuid: def.config.uuid!, disks: def.config.disk.map((d) => d.target) };
    },
    'domain.backup': async ({ domain, dir }, ctx) => {
      if (dir !== undefined) checkDirectory(await check(ctx, dir, 'backup folder'));
      return backupDomain(o, domain, dir);
    },
    'domain.backupRestore': async ({ path, name, replace }, ctx) => {
      checkInputFile(await check(ctx, path, 'backup archive'));
      const def = await restoreBackup(o, path, { name, replace });
      o.notify?.({ kind: 'defined', name: def.name });
      return { name: def.name, path: def.path };
    },
    'domain.migrate': async ({ ref, host, port, live, copyStorage, bandwidthMiB, downtimeMs }, ctx) => {
      if (!o.relocationToken) {
        throw new MigrationError('RelocationRefused', 'set (xend-relocation-token ...) in xend.conf to the token the target engine shares, then restart xend');
      }
      return migrateDomain(manager, ref, {
        host,
        port,
        token: o.relocationToken,
        live,
        copyStorage,
        maxBandwidth: bandwidthMiB === undefined ? undefined : bandwidthMiB * 1024 * 1024,
        downtimeLimitMs: downtimeMs,
        signal: ctx.signal,
      });
    },
  };
}

/** A directory a client asks the engine to write into: absolute and existing. */
export function checkDirectory(path: string): void {
  const bad = (why: string) => Object.assign(new Error(`${path}: ${why}`), { code: 'InvalidPath' });
  if (!isSafeAbsolutePath(path)) throw bad('give an absolute path without control characters');
  if (!existsSync(path) || !statSync(path).isDirectory()) throw bad('not an existing directory');
}

/** A file a client asks the engine to read: absolute, existing, a regular file. */
export function checkInputFile(path: string): void {
  const bad = (why: string) => Object.assign(new Error(`${path}: ${why}`), { code: 'InvalidPath' });
  if (!isSafeAbsolutePath(path)) throw bad('give an absolute path without control characters');
  if (!existsSync(path)) throw bad('no such file');
  if (!statSync(path).isFile()) throw bad('not a regular file');
}
