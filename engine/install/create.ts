// The create-domain operation (virt-install, the New VM wizard): check everything that can be
// checked before writing anything (name, media, space), then make the disks, fetch the installer,
// define the domain and start it. Whatever fails after the first write removes what this call made.

import { mkdir, readFile, rm, statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { Dom0Paths } from '../common/paths.js';
import { serializeDomainConfig, type DomainConfig } from '../config/index.js';
import type { DomainDefinitions, DomainEvent } from '../domains/index.js';
import { QemuImg } from '../qemu/index.js';
import { findOs, genericOs, loadCatalogue, osFromIsoLabel, type OsEntry } from './catalogue.js';
import { InstallError } from './errors.js';
import { checkReadableFile, readIsoLabel } from './media.js';
import { checkDescription, planInstall, type InstallPlan, type NewDisk } from './plan.js';
import { downloadFile, probeInstallTree, type InstallTree } from './tree.js';
import type { InstallDescription } from './types.js';

/** What the operation needs of the domains room: narrow, so tests can pass the real manager or not. */
export interface InstallDomains {
  definitions: DomainDefinitions;
  /** A running domain of that name, if any. */
  isRunning(name: string): boolean;
  start(config: DomainConfig): Promise<{ name: string; domid: number }>;
  onEvent(listener: (event: DomainEvent) => void): { dispose(): void };
}

export interface CreateDomainOptions {
  paths: Dom0Paths;
  domains: InstallDomains;
  dryRun?: boolean;
  log?: (message: string) => void;
}

export interface CreateDomainResult {
  name: string;
  domid?: number;
  os: { id: string; name: string };
  /** How the OS was found: 'given', 'iso label "…"', 'tree "…"', or 'default'. */
  osFrom: string;
  /** The definition's text (what runs after the install). */
  config: string;
  /** The installer run's config, for two-phase installs. */
  installConfig?: string;
  /** Where the definition is (dry run: where it would be). */
  path: string;
  newDisks: NewDisk[];
  /** 'install': the installer runs, the final config follows its reboot; 'running'; 'defined' (not started). */
  phase: 'install' | 'running' | 'defined' | 'dry-run';
  warnings: string[];
}

interface Resolved {
  os: OsEntry;
  osFrom: string;
  existingFormats: ('raw' | 'qcow2')[];
  tree?: InstallTree;
}

/** Free bytes for unprivileged users on the filesystem that holds `dir` (or its nearest existing parent). */
export async function freeBytes(dir: string): Promise<number> {
  let probe = dir;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  const st = await statfs(probe);
  return st.bavail * st.bsize;
}

async function resolveMedia(d: InstallDescription, warnings: string[]): Promise<Resolved> {
  const catalogue = loadCatalogue();
  let os: OsEntry | undefined;
  let osFrom = 'given';
  const variant = d.osVariant ?? 'detect';
  if (variant !== 'detect' && variant !== 'auto') {
    os = findOs(variant, catalogue);
    if (!os) throw new InstallError('InvalidInstall', `--os-variant ${variant} is not in the OS catalogue; 'virt-install --osinfo list' shows the ids (or use generic)`);
  }
  const src = d.source;
  let tree: InstallTree | undefined;
  if (src.kind === 'cdrom') {
    await checkReadableFile(src.path, '--cdrom');
    const label = await readIsoLabel(src.path);
    if (label === undefined) warnings.push(`${src.path} is not an ISO 9660 image; it is attached as a CD-ROM anyway`);
    const found = label ? osFromIsoLabel(label, catalogue) : undefined;
    if (!os && found) [os, osFrom] = [found, `iso label "${label}"`];
  } else if (src.kind === 'kernel') {
    await checkReadableFile(src.kernel, 'kernel');
    if (src.initrd) await checkReadableFile(src.initrd, 'initrd');
  } else if (src.kind === 'location') {
    tree = await probeInstallTree(src.url);
    if (!os && tree.os) [os, osFrom] = [tree.os, tree.info ? `tree "${tree.info}"` : `tree URL ${tree.base}`];
  }
  const existingFormats: ('raw' | 'qcow2')[] = [];
  for (const disk of d.disks) {
    if (disk.kind !== 'existing') continue;
    await checkReadableFile(disk.path, '--disk');
    if (disk.format) {
      existingFormats.push(disk.format);
      continue;
    }
    const info = await new QemuImg().info(disk.path).catch((err: Error) => {
      throw new InstallError('MediaUnreadable', `--disk ${disk.path}: ${err.message}`);
    });
    if (info.format !== 'raw' && info.format !== 'qcow2') throw new InstallError('MediaUnreadable', `--disk ${disk.path} is a ${info.format} image; convert it to qcow2 (qemu-img convert -O qcow2)`);
    existingFormats.push(info.format);
  }
  if (!os) {
    os = genericOs(catalogue);
    osFrom = 'default';
    if (variant === 'detect' && src.kind !== 'kernel' && src.kind !== 'pxe') warnings.push('the OS could not be detected; using generic defaults (give --os-variant)');
  }
  return { os, osFrom, existingFormats, tree };
}

/** Names being created by this engine right now. */
const creating = new Set<string>();

export async function createDomain(d: InstallDescription, opts: CreateDomainOptions): Promise<CreateDomainResult> {
  checkDescription(d);
  // Two creates of one name at once would both pass the name check: the second is refused here.
  if (creating.has(d.name)) throw new InstallError('DomainExists', `Domain '${d.name}' is being created right now; choose another --name`);
  creating.add(d.name);
  try {
    return await checkAndCreate(d, opts);
  } finally {
    creating.delete(d.name);
  }
}

async function checkAndCreate(d: InstallDescription, opts: CreateDomainOptions): Promise<CreateDomainResult> {
  const { paths, domains } = opts;
  const warnings: string[] = [];
  // Refusals first: nothing is written until all of these pass.
  if (domains.isRunning(d.name) || (await domains.definitions.get(d.name).catch(() => ({})))) {
    throw new InstallError('DomainExists', `Domain '${d.name}' already exists; choose another --name (or xm delete it first)`);
  }
  const resolved = await resolveMedia(d, warnings);
  const bootDir = join(paths.dataDir, 'boot', d.name);
  const bootFiles = d.source.kind === 'location' ? { kernel: join(bootDir, 'linux'), initrd: join(bootDir, 'initrd') } : undefined;
  const plan: InstallPlan = planInstall(d, { os: resolved.os, imagesDir: paths.imagesDir, existingFormats: resolved.existingFormats, bootFiles, taken: existsSync });
  const path = domains.definitions.pathOf(d.name);
  const result = (phase: CreateDomainResult['phase'], domid?: number): CreateDomainResult => ({
    name: d.name,
    domid,
    os: { id: resolved.os.id, name: resolved.os.name },
    osFrom: resolved.osFrom,
    config: serializeDomainConfig(plan.final),
    installConfig: plan.install && serializeDomainConfig(plan.install),
    path,
    newDisks: plan.newDisks,
    phase,
    warnings,
  });
  const needed = plan.newDisks.reduce((sum, disk) => sum + disk.sizeBytes, 0);
  if (needed > 0) {
    const free = await freeBytes(paths.imagesDir);
    if (needed > free) {
      const gib = (n: number) => (n / 1024 ** 3).toFixed(1);
      throw new InstallError('InsufficientSpace', `the new disks need ${gib(needed)} GiB but ${paths.imagesDir} has ${gib(free)} GiB free; give a smaller size or free some space`);
    }
  }
  if (opts.dryRun) return result('dry-run');
  return write(d, opts, plan, result, { bootDir, bootFiles, tree: resolved.tree });
}

async function write(
  d: InstallDescription,
  opts: CreateDomainOptions,
  plan: InstallPlan,
  result: (phase: CreateDomainResult['phase'], domid?: number) => CreateDomainResult,
  boot: { bootDir: string; bootFiles?: { kernel: string; initrd: string }; tree?: InstallTree },
): Promise<CreateDomainResult> {
  const { paths, domains } = opts;
  const log = opts.log ?? (() => undefined);
  const { bootDir, bootFiles } = boot;

  // From here on every write is recorded and undone if a later step fails.
  const made: (() => Promise<void>)[] = [];
  try {
    if (bootFiles && boot.tree) {
      // The name is free, so installer files under it are a leftover of a deleted domain.
      await rm(bootDir, { recursive: true, force: true });
      await mkdir(bootDir, { recursive: true });
      made.push(() => rm(bootDir, { recursive: true, force: true }));
      log(`fetching ${boot.tree.kernelUrl} and ${boot.tree.initrdUrl}`);
      await downloadFile(boot.tree.kernelUrl, bootFiles.kernel);
      await downloadFile(boot.tree.initrdUrl, bootFiles.initrd);
    }
    if (plan.newDisks.length) await mkdir(paths.imagesDir, { recursive: true });
    for (const disk of plan.newDisks) {
      await new QemuImg().create({ path: disk.path, format: disk.format, size: disk.sizeBytes }).catch((err: Error) => {
        throw new InstallError('ImageToolError', err.message);
      });
      made.push(() => rm(disk.path, { force: true }));
      log(`created ${disk.format} image ${disk.path} (${disk.sizeBytes} bytes)`);
    }
    // The name is free, so a pending-install note under it is a leftover of a deleted domain.
    await rm(pendingPath(paths, d.name), { force: true });
    // The definition fixes the domain's uuid and MACs: the install phase and every later start use them.
    const defined = (await domains.definitions.define(plan.final)).config;
    const install = plan.install && { ...plan.install, uuid: defined.uuid, vif: plan.install.vif.map((v, i) => ({ ...v, mac: v.mac ?? defined.vif[i]?.mac })) };
    made.push(() => domains.definitions.remove(d.name));
    if (d.start === false) {
      // Customize before install: the definition is the installer's config until its first
      // reboot (followPendingInstalls), so Run boots the installer with the user's changes.
      if (install) {
        const pending: PendingInstall = { boot: plan.final.boot, on_reboot: plan.final.on_reboot, ...(bootFiles ? { bootDir } : {}) };
        await writeFileAtomic(pendingPath(paths, d.name), JSON.stringify(pending));
        made.push(() => rm(pendingPath(paths, d.name), { force: true }));
        await domains.definitions.define(install);
      }
      return result('defined');
    }
    if (!install) {
      const info = await domains.start(defined);
      return result('running', info.domid);
    }
    const info = await domains.start(install);
    followInstall(info.domid, d.name, opts, { bootDir: bootFiles ? bootDir : undefined });
    return result('install', info.domid);
  } catch (err) {
    for (const undo of made.reverse()) await undo().catch(() => undefined);
    throw err;
  }
}

/** A customized install waiting for its first start: what turns its definition into the installed system. */
interface PendingInstall {
  /** Boot order after the install. */
  boot?: string;
  on_reboot: DomainConfig['on_reboot'];
  /** --location: the installer kernel/initrd come out of the definition, their folder is removed. */
  bootDir?: string;
}

const pendingPath = (paths: Dom0Paths, name: string) => join(paths.domainConfigDir, `.${name}.install.json`);

async function readPending(paths: Dom0Paths, name: string): Promise<PendingInstall | undefined> {
  try {
    return JSON.parse(await readFile(pendingPath(paths, name), 'utf8')) as PendingInstall;
  } catch {
    return undefined;
  }
}

/** The installed system's config from the installer's: boot from disk, no installer kernel, the usual on_reboot. */
export function installedConfig(config: DomainConfig, pending: PendingInstall): DomainConfig {
  const next: DomainConfig = { ...config, boot: pending.boot, on_reboot: pending.on_reboot };
  if (pending.bootDir) {
    delete next.kernel;
    delete next.ramdisk;
    delete next.extra;
  }
  return next;
}

/**
 * Customized installs ("Customize configuration before install"): their definition is the
 * installer's config until the installer reboots; whenever one is started (Run in the GUI,
 * xm start), follow it. Call once per engine.
 */
export function followPendingInstalls(opts: Omit<CreateDomainOptions, 'dryRun'>): { dispose(): void } {
  return opts.domains.onEvent((e) => {
    if (e.kind !== 'started' || !existsSync(pendingPath(opts.paths, e.name))) return;
    void readPending(opts.paths, e.name).then((pending) => {
      if (pending) followInstall(e.domid, e.name, opts, { bootDir: pending.bootDir, pending });
    });
  });
}

/**
 * The second phase of a two-phase install: when the installer reboots (on_reboot = "destroy" ends
 * it), start the definition, which boots from disk. An installer that powers off stays off.
 */
function followInstall(domid: number, name: string, opts: Omit<CreateDomainOptions, 'dryRun'>, how: { bootDir?: string; pending?: PendingInstall }): void {
  const log = opts.log ?? (() => undefined);
  let rebooted = false;
  const sub = opts.domains.onEvent((e) => {
    if (e.domid !== domid) return;
    if (e.kind === 'shutdown' && e.reason === 'reboot') rebooted = true;
    if (e.kind === 'renamed') name = e.name;
    if (e.kind !== 'destroyed') return;
    sub.dispose();
    void (async () => {
      // A customized install that did not finish stays pending, installer files included: Run continues it.
      if (how.pending && !rebooted) return;
      if (how.bootDir) await rm(how.bootDir, { recursive: true, force: true });
      if (!rebooted) return;
      const def = await opts.domains.definitions.get(name);
      if (!def) return;
      let config = def.config;
      if (how.pending) {
        config = (await opts.domains.definitions.define(installedConfig(def.config, how.pending))).config;
        await rm(pendingPath(opts.paths, name), { force: true });
      }
      const next = await opts.domains.start(config);
      log(`install of ${name} finished; started it from its disk (id ${next.domid})`);
    })().catch((err: Error) => log(`install of ${name}: starting the installed system failed: ${err.message}`));
  });
}
