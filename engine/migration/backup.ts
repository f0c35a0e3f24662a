// Backups: one archive (tar + gzip) holding a domain's config, a manifest and a copy of each
// writable disk. A running domain keeps running: QEMU's backup jobs, started together in one
// transaction, copy every disk as it was at one instant while the guest goes on writing. A stopped
// domain is copied directly (Xen's "stop and tar"). The archive is written under a temp name and
// renamed when complete. A restore checks the archive's member names before extracting anything,
// then defines the domain (new name: new uuid and MACs, as a clone), optionally replacing one.

import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { Dom0Paths } from '../common/paths.js';
import { loadDomainConfigText, serializeDomainConfig, type DiskSpec } from '../config/index.js';
import { DomainError, randomXenMac, type DomainDefinition, type DomainDefinitions, type DomainManager } from '../domains/index.js';
import { DOMAIN_NAME } from './clone.js';
import { MigrationError, qemuImgFailure } from './errors.js';
import { runJobs, type JobProgress } from './jobs.js';
import { QemuImg } from '../qemu/index.js';

const execFileAsync = promisify(execFile);

export interface BackupContext {
  manager: DomainManager;
  definitions: DomainDefinitions;
  paths: Dom0Paths;
}

interface Manifest {
  format: 1;
  name: string;
  uuid?: string;
  createdAt: number;
  /** How it was taken: 'live' (backup jobs of a running domain) or 'stopped' (copied). */
  method: 'live' | 'stopped';
  disks: Array<{ vdev: string; file: string; format: string }>;
}

export interface BackupResult {
  path: string;
  bytes: number;
  method: 'live' | 'stopped';
}

export async function backupDomain(ctx: BackupContext, domain: string, dir?: string, opts: { onProgress?: (p: JobProgress) => void } = {}): Promise<BackupResult> {
  const running = ctx.manager.lookup(domain);
  const def = running ? undefined : await ctx.definitions.get(domain);
  if (!running && !def) throw new DomainError('NoSuchDomain', `Domain '${domain}' does not exist.`);
  const config = running ? ctx.manager.configOf(running.domid) : def!.config;
  const outDir = dir ?? join(ctx.paths.dataDir, 'backups');
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const archive = join(outDir, `${config.name}-${stamp}.tar.gz`);
  const staging = join(outDir, `.${basename(archive)}.${randomBytes(4).toString('hex')}.staging`);
  const tmpArchive = `${archive}.${process.pid}.tmp`;
  const disks = config.disk.filter((d) => d.devtype === 'disk' && d.access !== 'r' && d.target !== '');
  const manifest: Manifest = {
    format: 1,
    name: config.name,
    uuid: running?.uuid ?? config.uuid,
    createdAt: Date.now(),
    method: running ? 'live' : 'stopped',
    disks: disks.map((d) => ({ vdev: d.vdev, file: `disks/${d.vdev}.${d.format === 'raw' ? 'img' : d.format}`, format: d.format })),
  };
  try {
    await mkdir(join(staging, 'disks'), { recursive: true });
    if (running) {
      const qmp = ctx.manager.qmpOf(running.domid, 'backup');
      const ids = disks.map(() => `backup-${randomBytes(4).toString('hex')}`);
      // One transaction: every disk is copied as it was at the same instant.
      const actions = disks.map((d, i) => ({
        type: 'drive-backup',
        data: {
          'job-id': ids[i],
          device: `drive-${d.vdev}`,
          target: join(staging, manifest.disks[i]!.file),
          format: d.format,
          sync: 'full',
          mode: 'absolute-paths',
          'auto-dismiss': false,
        },
      }));
      if (actions.length > 0) {
        await runJobs(qmp, 'transaction', { actions }, ids, {
          onProgress: opts.onProgress,
          describe: `backup of '${config.name}'`,
          fail: (m) => new MigrationError('BackupError', m),
        });
      }
    } else {
      for (const [i, d] of disks.entries()) {
        if (d.backend === 'phy') throw new MigrationError('BackupError', `disk ${d.vdev} is a block device (${d.target}); back it up with the device's own tools`);
        await new QemuImg().convert({ source: d.target, sourceFormat: d.format, format: d.format, target: join(staging, manifest.disks[i]!.file) }).catch(qemuImgFailure('BackupError'));
        opts.onProgress?.({ current: i + 1, total: disks.length });
      }
    }
    await writeFile(join(staging, 'domain.cfg'), serializeDomainConfig(config));
    await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    await tar(['-czf', tmpArchive, '-C', staging, 'manifest.json', 'domain.cfg', 'disks']);
    // The archive holds the disks and the definition (which can hold a vncpasswd).
    await chmod(tmpArchive, 0o600);
    await rename(tmpArchive, archive);
  } catch (err) {
    await rm(tmpArchive, { force: true });
    throw err instanceof MigrationError || err instanceof DomainError ? err : new MigrationError('BackupError', `backup of '${config.name}' failed: ${(err as Error).message}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { path: archive, bytes: (await stat(archive)).size, method: manifest.method };
}

export interface BackupRestoreOptions {
  /** Restore under this name (a new domain: new uuid and MACs); default the backed-up name. */
  name?: string;
  /** Replace an existing (stopped) domain of that name. */
  replace?: boolean;
}

export async function restoreBackup(ctx: BackupContext, archive: string, opts: BackupRestoreOptions = {}): Promise<DomainDefinition> {
  // Only our own member names are accepted, so extraction can never write outside the staging dir.
  const members = (await tar(['-tzf', archive])).split('\n').filter(Boolean);
  const allowed = /^(manifest\.json|domain\.cfg|disks\/?|disks\/xvd[a-z]+\.(img|qcow2)|disks\/[hs]d[a-z]+\.(img|qcow2))$/;
  const bad = members.find((m) => !allowed.test(m));
  if (bad !== undefined || !members.includes('manifest.json') || !members.includes('domain.cfg')) {
    throw new MigrationError('BackupError', `${archive} is not a Dom0 backup archive${bad ? ` (unexpected member '${bad}')` : ''}`);
  }
  const images = ctx.paths.imagesDir;
  await mkdir(images, { recursive: true });
  const staging = join(images, `.restore-${randomBytes(4).toString('hex')}`);
  const moved: string[] = [];
  try {
    await mkdir(staging, { recursive: true });
    await tar(['-xzf', archive, '-C', staging, '--no-same-owner', '--no-same-permissions']);
    const manifest = JSON.parse(await readFile(join(staging, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.format !== 1) throw new MigrationError('BackupError', `${archive} has backup format ${String(manifest.format)}; this engine reads format 1`);
    const { config } = loadDomainConfigText(await readFile(join(staging, 'domain.cfg'), 'utf8'), `${archive}:domain.cfg`);
    const name = opts.name ?? manifest.name;
    if (!DOMAIN_NAME.test(name)) throw new MigrationError('BackupError', `'${name}' is not a valid domain name`);
    const running = ctx.manager.lookup(name);
    if (running) throw new DomainError('DomainExists', `domain '${name}' is running; shut it down before restoring a backup over it`);
    if (!opts.replace && (await ctx.definitions.get(name))) {
      throw new DomainError('DomainExists', `domain '${name}' exists; restore under another name, or replace it`);
    }
    const renamed = name !== manifest.name;
    const disk: DiskSpec[] = [];
    for (const d of config.disk) {
      const saved = manifest.disks.find((m) => m.vdev === d.vdev);
      if (!saved) {
        disk.push(d);
        continue;
      }
      const target = join(images, `${name}-${basename(saved.file)}`);
      if (existsSync(target) && !opts.replace) throw new MigrationError('BackupError', `${target} exists already; move it away or restore with replace`);
      await rename(join(staging, saved.file), target);
      moved.push(target);
      disk.push({ ...d, target, backend: d.backend === 'phy' ? 'file' : d.backend });
    }
    const inUse = new Set(ctx.manager.list().flatMap((x) => x.macs));
    return await ctx.definitions.define({
      ...config,
      name,
      uuid: renamed ? randomUUID() : (manifest.uuid ?? config.uuid),
      disk,
      vif: renamed ? config.vif.map((v) => ({ ...v, mac: randomXenMac(inUse) })) : config.vif,
    });
  } catch (err) {
    if (!opts.replace) for (const path of moved) await rm(path, { force: true });
    throw err instanceof MigrationError || err instanceof DomainError ? err : new MigrationError('BackupError', `restoring ${archive} failed: ${(err as Error).message}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function tar(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('tar', args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new MigrationError('BackupError', `tar failed: ${stderr || (err as Error).message}`);
  }
}
