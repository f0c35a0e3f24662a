// xend's handlers: each method of engine/protocol/common/xend-api.ts, implemented on the domain
// manager and the domain definitions. Errors keep their names as protocol codes, so xm can print
// Xen's messages and the GUI can react to the kind of failure.

import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import type { Dom0Paths } from '../common/paths.js';
import { formatIssue, loadDomainConfigText, serializeDomainConfig, type DomainConfig } from '../config/index.js';
import { openVncConnection, SerialHub } from '../consoles/index.js';
import { DomainDefinitions, DomainError, randomXenMac, type DomainManager } from '../domains/index.js';
import { formatQemuOptions, planQemu, type Accelerator } from '../qemu/index.js';
import type { Handlers } from '../protocol/common/define.js';
import type { DomainRow, XendMethods } from '../protocol/common/xend-api.js';
import type { storageMethods } from '../protocol/common/xend-api-storage.js';
import type { networkMethods } from '../protocol/common/xend-api-network.js';
import type { statsMethods } from '../protocol/common/xend-api-stats.js';
import type { connectionMethods } from '../protocol/common/xend-api-connections.js';
import type { StreamOpeners } from '../protocol/node/server.js';
import type { RequestContext } from '../protocol/common/define.js';
import type { ClientPaths } from './client-paths.js';
import type { XendStreams } from '../protocol/common/xend-api.js';
import type { installMethods } from '../protocol/common/xend-api-install.js';
import { hostInfo, hostLoad, type HostInfo } from './host.js';
import { lifecycleHandlers } from './lifecycle-service.js';
import { schedHandlers } from './sched-service.js';
import { hasManagedSave, managedSavePath, restoreManagedSave } from '../migration/index.js';
import { isSafeAbsolutePath } from '../common/safe-path.js';

export interface XendServiceOptions {
  manager: DomainManager;
  definitions: DomainDefinitions;
  paths: Dom0Paths;
  logPath: string;
  qemuBinary: string;
  accel: Accelerator;
  accelReason: string;
  engineVersion: string;
  /** xend-relocation-token: what `xm migrate` authenticates to other engines with. */
  relocationToken?: string;
  /** Tells clients about changes that are not domain lifecycle events (definitions). */
  notify?: (change: { kind: 'defined' | 'undefined'; name: string }) => void;
  /** What remote clients may name on this host; absent: only the checks every client gets. */
  clientPaths?: ClientPaths;
}

export class XendService {
  readonly #o: XendServiceOptions;
  readonly #hubs = new Map<number, SerialHub>();

  constructor(opts: XendServiceOptions) {
    this.#o = opts;
    opts.manager.onEvent((e) => {
      if (e.kind === 'destroyed') {
        this.#hubs.get(e.domid)?.close();
        this.#hubs.delete(e.domid);
      }
    });
  }

  async host(): Promise<HostInfo & { xend_pid: number; config_dir: string; data_dir: string; runtime_dir: string }> {
    const { qemuBinary, accel, accelReason, engineVersion, paths } = this.#o;
    return {
      ...(await hostInfo({ qemuBinary, accel, accelReason, engineVersion })),
      xend_pid: process.pid,
      config_dir: paths.configDir,
      data_dir: paths.dataDir,
      runtime_dir: paths.runtimeDir,
    };
  }

  /** Xen's autostart: start every defined domain with on_xend_start = "start" that is not running. */
  async autostart(log: (message: string) => void): Promise<void> {
    for (const def of await this.#o.definitions.list()) {
      if (def.config.on_xend_start !== 'start' || this.#o.manager.lookup(def.name)) continue;
      try {
        const info = await this.#o.manager.create(def.config);
        log(`autostarted domain ${info.name} (id=${info.domid})`);
      } catch (err) {
        log(`autostart of ${def.name} failed: ${(err as Error).message}`);
      }
    }
  }

  /** The core methods; install-, storage-, network- and stats-service.ts and the libvirt room answer the others. */
  handlers(): Omit<Handlers<XendMethods>, keyof typeof installMethods | keyof typeof storageMethods | keyof typeof networkMethods | keyof typeof statsMethods | keyof typeof connectionMethods> {
    const { manager, definitions } = this.#o;
    return {
      'host.info': () => this.host(),
      'log.read': async ({ lines }) => ({ path: this.#o.logPath, text: await tailLines(this.#o.logPath, lines) }),
      'domain.list': async (params) => this.#list(params?.includeConfig ?? false),
      'domain.create': async ({ text, file, overrides, paused, dryRun }, ctx) => {
        const { config, warnings } = coded(() => loadDomainConfigText(text, file, overrides));
        await this.#o.clientPaths?.checkConfig(ctx, config);
        const warningText = warnings.map(formatIssue);
        if (dryRun) {
          const inUse = new Set(manager.list().flatMap((d) => d.macs));
          const qemu = this.#qemuCommandLine(config, config.uuid ?? randomUUID(), () => randomXenMac(inUse));
          return { name: config.name, config: serializeDomainConfig(config), qemu, warnings: warningText };
        }
        const info = await codedAsync(() => manager.create(config, { paused }));
        return { name: info.name, domid: info.domid, warnings: warningText };
      },
      'domain.define': async ({ text, file, overrides }, ctx) => {
        const { config, warnings } = coded(() => loadDomainConfigText(text, file, overrides));
        await this.#o.clientPaths?.checkConfig(ctx, config);
        const def = await definitions.define(config);
        this.#o.notify?.({ kind: 'defined', name: def.name });
        return { name: def.name, path: def.path, warnings: warnings.map(formatIssue) };
      },
      'domain.start': async ({ name, paused }) => {
        const def = await definitions.get(name);
        if (!def) throw new DomainError('NoSuchDomain', `Domain '${name}' does not exist.`);
        const info = (await restoreManagedSave(manager, this.#o.paths.dataDir, def.name, { paused })) ?? (await codedAsync(() => manager.create(def.config, { paused })));
        return { name: info.name, domid: info.domid };
      },
      'domain.undefine': async ({ name }) => {
        if (manager.lookup(name)) throw new DomainError('InvalidState', `Domain '${name}' is running; shut it down or destroy it before deleting it.`);
        await definitions.remove(name);
        await rm(managedSavePath(this.#o.paths.dataDir, name), { force: true });
        this.#o.notify?.({ kind: 'undefined', name });
        return null;
      },
      'domain.destroy': async ({ ref }) => {
        await manager.destroy(ref);
        return null;
      },
      'domain.shutdown': async ({ ref, reboot, wait, timeoutMs }) => {
        if (reboot) await manager.reboot(ref, { wait, timeoutMs });
        else await manager.shutdown(ref, { wait, timeoutMs });
        return null;
      },
      'domain.shutdownAll': async ({ reboot, wait, timeoutMs }) => {
        const running = manager.list().filter((d) => d.status === 'running');
        await Promise.all(running.map((d) => (reboot ? manager.reboot(d.domid, { wait, timeoutMs }) : manager.shutdown(d.domid, { wait, timeoutMs }))));
        return running.map((d) => d.name);
      },
      'domain.reset': async ({ ref }) => {
        await manager.reset(ref);
        return null;
      },
      'domain.delete': async ({ name, storage, force }, ctx) => {
        const running = manager.lookup(name);
        const def = await definitions.get(name);
        if (!running && !def) throw new DomainError('NoSuchDomain', `Domain '${name}' does not exist.`);
        const config = running ? manager.configOf(running.domid) : def!.config;
        // Only images this domain's config names may be deleted, and never block devices.
        const deletable = new Set(config.disk.filter((d) => d.backend !== 'phy' && d.backend !== 'iscsi' && d.target !== '').map((d) => d.target));
        for (const path of storage) {
          if (!deletable.has(path)) throw Object.assign(new Error(`${path} is not a disk image of domain '${name}'`), { code: 'InvalidPath' });
          await this.#o.clientPaths?.check(ctx, path, `disk image`);
        }
        if (running) {
          if (!force) throw new DomainError('InvalidState', `Domain '${name}' is running; force it off first (or pass force).`);
          await manager.destroy(running.domid);
        }
        const deleted: string[] = [];
        for (const path of storage) {
          await rm(path, { force: true });
          deleted.push(path);
        }
        if (def) {
          await definitions.remove(name);
          await rm(managedSavePath(this.#o.paths.dataDir, name), { force: true });
          this.#o.notify?.({ kind: 'undefined', name });
        }
        return { deleted };
      },
      'domain.getConfig': async ({ name }) => {
        const running = manager.lookup(name);
        const def = await definitions.get(name);
        if (!running && !def) throw new DomainError('NoSuchDomain', `Domain '${name}' does not exist.`);
        // A defined domain shows what is on disk (saved edits included); others what they run with.
        const config = def ? def.config : manager.configOf(running!.domid);
        const text = def ? await readFile(def.path, 'utf8') : serializeDomainConfig(config);
        const qemu = this.#qemuCommandLine(
          config,
          running?.uuid ?? config.uuid ?? '00000000-0000-0000-0000-000000000000',
          (i) => running?.macs[i] ?? '00:16:3e:xx:xx:xx',
        );
        return { text, path: def?.path, config, qemu };
      },
      'domain.update': async ({ name, changes }, ctx) => {
        const running = manager.lookup(name);
        const def = await definitions.get(name);
        if (!running && !def) throw new DomainError('NoSuchDomain', `Domain '${name}' does not exist.`);
        const base = def?.config ?? manager.configOf(running!.domid);
        const next = { ...base };
        for (const [key, value] of Object.entries(changes)) {
          if (value === undefined) continue;
          if (key === 'autostart') {
            next.on_xend_start = value === true ? 'start' : undefined;
            continue;
          }
          // '' clears an optional text field (e.g. removes the kernel to boot from disk).
          (next as Record<string, unknown>)[key] = value === '' ? undefined : value;
        }
        // Validate exactly as a hand-written file would be: serialize, then load.
        const { config } = coded(() => loadDomainConfigText(serializeDomainConfig(next), `${name}.cfg`));
        await this.#o.clientPaths?.checkConfig(ctx, config, base);
        const saved = await definitions.define(config);
        this.#o.notify?.({ kind: 'defined', name: config.name });
        const live: string[] = [];
        const nextBoot: string[] = [];
        for (const key of Object.keys(changes)) {
          if (key === 'description' || key === 'autostart') {
            live.push(key);
          } else if (running && key === 'memory' && config.memory <= Math.max(running.maxmem, running.memory)) {
            await manager.memSet(running.domid, config.memory);
            live.push(key);
          } else if (running && (key === 'cpu_weight' || key === 'cpu_cap')) {
            await codedAsync(() => manager.schedCreditSet(running.domid, { weight: config.cpu_weight ?? 256, cap: config.cpu_cap ?? 0 }));
            live.push(key);
          } else if (running) {
            nextBoot.push(key);
          } else {
            live.push(key);
          }
        }
        return { live, nextBoot, path: saved.path };
      },
      'domain.pause': async ({ ref }) => {
        await manager.pause(ref);
        return null;
      },
      'domain.unpause': async ({ ref }) => {
        await manager.unpause(ref);
        return null;
      },
      'domain.rename': async ({ ref, newName }) => {
        const running = manager.lookup(ref);
        const oldName = running?.name ?? String(ref);
        const def = await definitions.get(oldName);
        if (!running && !def) throw new DomainError('NoSuchDomain', `Domain '${ref}' does not exist.`);
        if (running) await manager.rename(ref, newName);
        if (def) {
          // The definition follows the domain, written under the new name before the old one goes.
          await definitions.define({ ...def.config, name: newName });
          await definitions.remove(oldName);
          this.#o.notify?.({ kind: 'undefined', name: oldName });
          this.#o.notify?.({ kind: 'defined', name: newName });
        }
        return null;
      },
      'domain.memSet': async ({ ref, mib }) => {
        await manager.memSet(ref, mib);
        return null;
      },
      'domain.memMax': ({ ref, mib }) => manager.memMax(ref, mib),
      'domain.vcpuSet': async ({ ref, count }) => {
        await manager.vcpuSet(ref, count);
        return null;
      },
      'domain.vcpuList': async ({ ref }) => {
        const rows = [];
        const domains = ref === undefined ? manager.list() : ref === 0 || ref === '0' || ref === 'Domain-0' ? [] : [manager.info(ref)];
        if (ref === undefined || ref === 0 || ref === '0' || ref === 'Domain-0') {
          cpus().forEach((c, i) =>
            rows.push({ name: 'Domain-0', domid: 0, vcpu: i, cpu: i, state: 'r--', cpuTime: (c.times.user + c.times.nice + c.times.sys) / 1000, affinity: 'any cpu' }),
          );
        }
        for (const d of domains) {
          for (const v of await manager.vcpuList(d.domid)) {
            rows.push({ name: d.name, domid: d.domid, vcpu: v.vcpu, cpu: v.cpu, state: v.state, cpuTime: v.cpuTime, affinity: v.affinity });
          }
        }
        return rows;
      },
      'domain.sysrq': async ({ ref, key }) => {
        await manager.sysrq(ref, key);
        return null;
      },
      'domain.sendKey': async ({ ref, keys }) => {
        await manager.sendKey(ref, keys);
        return null;
      },
      'domain.screenshot': async ({ ref }) => {
        const info = manager.info(ref);
        if (!manager.configOf(info.domid).vfb.some((v) => v.type === 'vnc')) {
          throw Object.assign(new Error(`domain ${info.name} has no graphical console (add vfb = ['vnc=1'])`), { code: 'NoDisplay' });
        }
        // QEMU writes the file itself: into the domain's private runtime dir, read, then removed.
        const file = join(info.runtimeDir, `.screendump-${randomUUID()}.png`);
        try {
          await manager.screenshot(info.domid, file);
          const png = await readFile(file);
          return { png: png.toString('base64'), width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
        } finally {
          await rm(file, { force: true });
        }
      },
      'domain.dumpCore': async ({ ref, path, live, crash, reset }, ctx) => {
        if (path !== undefined) checkOutputPath(await this.#check(ctx, path, 'core file'));
        return { path: await manager.dumpCore(ref, { path, live, crash, reset }) };
      },
      ...schedHandlers({ manager, definitions, notify: this.#o.notify }),
      ...lifecycleHandlers({ manager, definitions, paths: this.#o.paths, notify: this.#o.notify, relocationToken: this.#o.relocationToken, clientPaths: this.#o.clientPaths }),
    };
  }

  #check(ctx: RequestContext, path: string, what: string): Promise<string> {
    return this.#o.clientPaths?.check(ctx, path, what) ?? Promise.resolve(path);
  }

  /** The QEMU options the engine would start this config with, one per line (xm create -n, the Config tab). */
  #qemuCommandLine(config: DomainConfig, uuid: string, macFor: (vifIndex: number) => string): string {
    const plan = coded(() => planQemu(config, { accel: this.#o.accel, runtimeDir: this.#o.paths.domainRuntimeDir(config.name), uuid, macFor }));
    return formatQemuOptions(plan.options);
  }

  streamOpeners(): StreamOpeners<XendStreams> {
    return {
      'console.serial': async ({ ref, replayBytes }) => {
        const info = this.#o.manager.info(ref);
        let hub = this.#hubs.get(info.domid);
        if (!hub) {
          hub = new SerialHub(this.#o.manager.consolePaths(info.domid));
          this.#hubs.set(info.domid, hub);
        }
        const viewer = await hub.attach(replayBytes);
        return { readable: viewer.readable, writable: viewer.writable };
      },
      // QEMU's VNC server takes several clients itself: one new connection per viewer, relayed
      // as is (the socket is the pipe, so its backpressure is the stream's).
      'console.vnc': async ({ ref }) => openVncConnection(this.#o.manager.info(ref)),
    };
  }

  /** Domain-0, the running domains and the defined ones that are not running, sorted by name. */
  async #list(includeConfig: boolean): Promise<DomainRow[]> {
    const { manager, definitions } = this.#o;
    const host = hostLoad();
    const rows: DomainRow[] = [
      { name: 'Domain-0', domid: 0, status: 'running', state: 'r-----', memory: host.total_memory, maxmem: host.total_memory, vcpus: host.nr_cpus, cpuTime: host.cpu_time },
    ];
    const running = new Set<string>();
    for (const d of manager.list()) {
      running.add(d.name);
      rows.push({
        name: d.name,
        domid: d.domid,
        uuid: d.uuid,
        status: d.status,
        state: d.state,
        memory: d.memory,
        maxmem: d.maxmem,
        vcpus: d.vcpus,
        cpuTime: d.cpuTime,
        accel: d.accel,
        startTime: d.startTime,
        restartCount: d.restartCount,
        config: includeConfig ? serializeDomainConfig(manager.configOf(d.domid)) : undefined,
      });
    }
    for (const def of await definitions.list()) {
      if (running.has(def.name)) {
        const row = rows.find((r) => r.name === def.name);
        if (row) row.configPath = def.path;
        continue;
      }
      rows.push({
        name: def.name,
        uuid: def.config.uuid,
        status: 'halted',
        state: '------',
        memory: def.config.memory,
        maxmem: def.config.maxmem ?? def.config.memory,
        vcpus: def.config.vcpus,
        cpuTime: 0,
        saved: hasManagedSave(this.#o.paths.dataDir, def.name) || undefined,
        configPath: def.path,
        config: includeConfig ? serializeDomainConfig(def.config) : undefined,
      });
    }
    return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** Errors of other rooms carry their kind in `name`; the protocol wants it in `code`. */
function withCode(err: unknown): unknown {
  if (err instanceof Error && !(err as { code?: unknown }).code) Object.assign(err, { code: err.name });
  return err;
}

function coded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw withCode(err);
  }
}

async function codedAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw withCode(err);
  }
}

/** A path a client asks the engine (or QEMU) to write: absolute, in an existing directory, not a directory itself. */
export function checkOutputPath(path: string): void {
  const bad = (why: string) => Object.assign(new Error(`${path}: ${why}`), { code: 'InvalidPath' });
  if (!isSafeAbsolutePath(path)) throw bad('give an absolute path without control characters');
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw bad(`directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw bad('is a directory');
}

async function tailLines(path: string, lines: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const want = Math.min(size, lines * 400 + 4096);
    const buffer = Buffer.alloc(want);
    await handle.read(buffer, 0, want, size - want);
    const text = buffer.toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n') + (all.length ? '\n' : '');
  } finally {
    await handle.close();
  }
}

