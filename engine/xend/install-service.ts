// xend's handlers for creating domains (install.*) and the web-mode file browser (files.list):
// the install room does the work; this file adapts it to the protocol and the domain manager.

import { cpus, totalmem } from 'node:os';
import type { Dom0Paths } from '../common/paths.js';
import type { DomainDefinitions, DomainManager } from '../domains/index.js';
import { createDomain, followPendingInstalls, freeBytes, InstallError, listFolder, loadCatalogue, osFromIsoLabel, probeInstallTree, readIsoLabel, checkReadableFile } from '../install/index.js';
import type { Handlers } from '../protocol/common/define.js';
import type { installMethods } from '../protocol/common/xend-api-install.js';
import type { InstallDescription } from '../install/index.js';
import type { RequestContext } from '../protocol/common/define.js';
import type { ClientPaths } from './client-paths.js';

export interface InstallServiceOptions {
  manager: DomainManager;
  definitions: DomainDefinitions;
  paths: Dom0Paths;
  /** The folders remote clients may name and the file browser lists (data dir, pools, browse-folders). */
  clientPaths: ClientPaths;
  notify?: (change: { kind: 'defined' | 'undefined'; name: string }) => void;
  log?: (message: string) => void;
}

/** Errors of other rooms carry their kind in `name`; the protocol wants it in `code`. */
function coded(err: unknown): never {
  if (err instanceof Error && !(err as { code?: unknown }).code) Object.assign(err, { code: err.name });
  throw err;
}

export function installHandlers(o: InstallServiceOptions): Handlers<typeof installMethods> {
  const { manager, definitions, paths } = o;
  const domains = {
    definitions,
    isRunning: (name: string) => manager.lookup(name) !== undefined,
    start: (config: Parameters<DomainManager['create']>[0]) => manager.create(config),
    onEvent: (listener: Parameters<DomainManager['onEvent']>[0]) => manager.onEvent(listener),
  };
  // Customized installs continue whenever they are started (Run, xm start), for the engine's life.
  followPendingInstalls({ paths, domains, log: o.log });
  return {
    'install.create': async ({ description, dryRun }, ctx) => {
      await checkDescriptionPaths(o.clientPaths, ctx, description);
      const result = await createDomain(description, { paths, dryRun, log: o.log, domains }).catch(coded);
      if (result.phase !== 'dry-run') o.notify?.({ kind: 'defined', name: result.name });
      return result;
    },
    'install.osList': () => loadCatalogue().map(({ id, name, family, memory, disk, vcpus, diskBus, nic }) => ({ id, name, family, memory, disk, vcpus, diskBus, nic })),
    'install.detect': async (params, ctx) => {
      if ('cdrom' in params) {
        await o.clientPaths.check(ctx, params.cdrom, 'ISO');
        await checkReadableFile(params.cdrom, 'ISO');
        const label = await readIsoLabel(params.cdrom);
        const os = label ? osFromIsoLabel(label) : undefined;
        return { os, label, detail: label === undefined ? 'not an ISO 9660 image' : os ? `volume label "${label}"` : `volume label "${label}" is not in the OS catalogue` };
      }
      const tree = await probeInstallTree(params.location);
      return { os: tree.os, detail: tree.os ? `${tree.layout} tree${tree.info ? ` "${tree.info}"` : ''}` : `${tree.layout} tree; OS not recognised` };
    },
    'install.poolInfo': async () => ({
      path: paths.imagesDir,
      freeBytes: await freeBytes(paths.imagesDir),
      hostMemoryMiB: Math.floor(totalmem() / 1024 / 1024),
      hostCpus: cpus().length,
    }),
    'files.list': async ({ path }) => {
      // The same folders every path a remote client names must lie in (the data dir first).
      return listFolder(path, await o.clientPaths.roots()).catch((err: unknown) => {
        if (err instanceof InstallError) throw err;
        throw new InstallError('InvalidPath', `${path}: ${(err as Error).message}`);
      });
    },
  };
}

/** The host files an install description names: the ISO, a kernel and initrd, existing disks. */
async function checkDescriptionPaths(paths: ClientPaths, ctx: RequestContext, d: InstallDescription): Promise<void> {
  const named: [string, string][] = [];
  if (d.source.kind === 'cdrom') named.push([d.source.path, 'ISO']);
  if (d.source.kind === 'kernel') named.push([d.source.kernel, 'kernel'], ...(d.source.initrd ? [[d.source.initrd, 'initrd'] as [string, string]] : []));
  for (const disk of d.disks) if (disk.kind === 'existing') named.push([disk.path, 'disk']);
  for (const [path, what] of named) await paths.check(ctx, path, what);
}
