// The domain registry and lifecycle: what xend did for Xen domains, done with QEMU processes.
//
//   create ─► QEMU built paused (-S) ─► setup (balloon, VNC password, taps) ─► cont ─► running
//   running ⇄ paused                                     (pause / unpause)
//   running ─ guest powers off / reboots ─► shutdown ─► on_poweroff / on_reboot action
//   running ─ guest panics (pvpanic)     ─► crashed  ─► on_crash action
//   any ─ destroy ─► dying ─► gone
//
// QEMU is started with `-action reboot=shutdown,shutdown=pause,panic=pause`, so it never acts on
// its own: it reports SHUTDOWN / GUEST_PANICKED over QMP and waits, and this module applies the
// domain's configured action. A domain's end is detected by its QMP socket closing, never by
// waiting for the pid to vanish (an orphaned QEMU can linger as a zombie for seconds).

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { Dom0Paths } from '../common/paths.js';
import { loadDomainConfigText, serializeDomainConfig, type DomainConfig, type LifecycleAction } from '../config/index.js';
import {
  isProcessAlive,
  launchQemu,
  planQemu,
  preflightDomain,
  qemuArgv,
  QemuStartError,
  readProcStat,
  QmpClient,
  type Accelerator,
} from '../qemu/index.js';
import { CpuScheduler, creditOf, type CreditParams } from '../sched/index.js';
import { DomainError } from './errors.js';
import { randomXenMac } from './mac.js';
import { isAllowed, stateLetters, type DomainOperation, type DomainStatus } from './operations.js';

const execFileAsync = promisify(execFile);

/** Xen's guard: a domain that needs restarting within this long of starting is destroyed instead. */
export const RESTART_GUARD_MS = 10_000;

export type ShutdownReason = 'poweroff' | 'reboot' | 'crash';

export interface DomainInfo {
  domid: number;
  name: string;
  uuid: string;
  status: DomainStatus;
  /** Xen's `rbpscd` letters, as `xm list` prints them. */
  state: string;
  /** MiB */
  memory: number;
  maxmem: number;
  vcpus: number;
  /** CPU seconds used by the domain's QEMU process. */
  cpuTime: number;
  accel: Accelerator;
  pid: number;
  /** ms since the epoch */
  startTime: number;
  restartCount: number;
  shutdownReason?: ShutdownReason;
  runtimeDir: string;
  macs: string[];
}

export interface VcpuInfo {
  vcpu: number;
  thread: number;
  /** Host CPU the thread last ran on. */
  cpu?: number;
  /** Xen's `r--` running, `-b-` blocked, `--p` paused. */
  state: string;
  cpuTime: number;
  /** Host CPUs the thread may run on, as a list (`0-3`), or `any cpu`. */
  affinity: string;
}

export type DomainEvent =
  | { kind: 'started'; domid: number; name: string }
  | { kind: 'paused' | 'unpaused'; domid: number; name: string }
  | { kind: 'shutdown'; domid: number; name: string; reason: ShutdownReason; action: LifecycleAction }
  | { kind: 'destroyed'; domid: number; name: string; why: string }
  | { kind: 'restarted'; domid: number; name: string; previousDomid: number; restartCount: number }
  | { kind: 'renamed'; domid: number; name: string; previousName: string }
  | { kind: 'coredump'; domid: number; name: string; path: string }
  | { kind: 'memory'; domid: number; name: string; memory: number }
  | { kind: 'vcpus'; domid: number; name: string; vcpus: number }
  | { kind: 'devices'; domid: number; name: string; detail: string }
  | { kind: 'sched'; domid: number; name: string; detail: string };

/** What engine/domains/hotplug.ts works on: a live domain's QMP and the config it runs with. */
export interface LiveDomain {
  domid: number;
  name: string;
  config: DomainConfig;
  macs: string[];
  qmp: QmpClient;
}

export interface DomainManagerOptions {
  paths: Dom0Paths;
  qemuBinary: string;
  accel: Accelerator;
  /** Defaults to RESTART_GUARD_MS. */
  restartGuardMs?: number;
  /** Where /sys/class/net is, for the bridge check (tests). */
  sysClassNet?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** CPU pinning, weight and cap (engine/sched); defaults to the host's cgroup cpu controller. */
  scheduler?: CpuScheduler;
}

export interface CreateOptions {
  /** Leave the domain paused after it is built (`xm create -p`). */
  paused?: boolean;
  /** Used by restarts: keep identity across a new domid. */
  uuid?: string;
  macs?: string[];
  restartCount?: number;
  /**
   * Load the guest from a migration stream instead of booting it (restore, incoming migration):
   * QEMU starts with `-incoming defer`, and this feeds it the stream, resolving once QEMU has
   * loaded it. Setup and `cont` follow as for a fresh boot.
   */
  incoming?: (qmp: QmpClient, runtimeDir: string) => Promise<void>;
}

export interface ShutdownOptions {
  /** Wait until the domain has powered off and its on_poweroff action ran (`xm shutdown -w`). */
  wait?: boolean;
  /** With wait: give up after this long with ShutdownTimeout; the domain keeps running. Default 120 s. */
  timeoutMs?: number;
}

/** A running domain as the stats sampler sees it (see monitorTargets). */
export interface MonitorTarget {
  domid: number;
  name: string;
  pid: number;
  status: DomainStatus;
  vcpus: number;
  vcpuThreads: readonly number[];
  /** MiB: the balloon target and the ceiling. */
  memory: number;
  maxmem: number;
  disks: number;
  taps: Array<string | null>;
  query<T = unknown>(command: string, args?: object): Promise<T>;
}

/** `<runtime>/domains/<name>/domain.json`. */
interface RuntimeRecord {
  domid: number;
  name: string;
  uuid: string;
  pid: number;
  pidStartTicks?: number;
  accel: Accelerator;
  startTime: number;
  restartCount: number;
  macs: string[];
  /** The running config, serialized as an xm file. */
  config: string;
}

/** What a restarted domain keeps of the one it replaces. */
interface RestartIdentity {
  domid: number;
  config: DomainConfig;
  uuid: string;
  macs: string[];
  restartCount: number;
}

interface Domain {
  domid: number;
  name: string;
  uuid: string;
  config: DomainConfig;
  accel: Accelerator;
  pid: number;
  qmp: QmpClient;
  runtimeDir: string;
  status: DomainStatus;
  startTime: number;
  restartCount: number;
  macs: string[];
  vcpuThreads: number[];
  shutdownReason?: ShutdownReason;
  /** `xm reboot` pressed the power button: a power-off now means "start again". */
  rebootRequested: boolean;
  /** We are ending this QEMU on purpose (destroy, restart): its QMP closing is expected. */
  ending: boolean;
  /** Resolves once the domain has left the registry. */
  gone: Promise<void>;
  markGone: () => void;
}

export class DomainManager {
  readonly #opts: DomainManagerOptions;
  readonly #domains = new Map<number, Domain>();
  readonly #events = new EventEmitter();
  #nextDomid = 1;
  /** Names being created right now, so two creates of one name cannot race. */
  readonly #reservedNames = new Set<string>();

  readonly #sched: CpuScheduler;

  constructor(opts: DomainManagerOptions) {
    this.#opts = opts;
    this.#sched = opts.scheduler ?? CpuScheduler.forHost();
  }

  /** Xen's credit scheduler parameters of a domain (`xm sched-credit`). */
  schedCredit(ref: string | number): CreditParams {
    return creditOf(this.#find(ref).config);
  }

  /** `xm sched-credit -d D [-w W] [-c C]`: applied to the vCPU threads at once, kept in the running config. */
  async schedCreditSet(ref: string | number, change: Partial<CreditParams>): Promise<CreditParams> {
    const domain = this.#find(ref, 'set the scheduler of');
    this.#require(domain, 'schedCreditSet');
    const next = { ...creditOf(domain.config), ...change };
    await this.#sched.setLive(domain.pid, domain.vcpuThreads, next, domain.config.vcpus);
    domain.config = { ...domain.config, cpu_weight: next.weight, cpu_cap: next.cap };
    await this.#writeRuntimeRecord(domain);
    this.#emit({ kind: 'sched', domid: domain.domid, name: domain.name, detail: `weight ${next.weight}, cap ${next.cap}` });
    return next;
  }

  onEvent(listener: (event: DomainEvent) => void): { dispose(): void } {
    this.#events.on('event', listener);
    return { dispose: () => this.#events.off('event', listener) };
  }

  list(): DomainInfo[] {
    return [...this.#domains.values()].map((d) => this.#info(d)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * What the stats sampler reads of each domain whose QEMU runs: its process and vCPU threads (for
   * /proc), a QMP query function (monitor queries only), and its NICs' host taps (null for a
   * user-mode NIC, which has no host-side counters).
   */
  monitorTargets(): MonitorTarget[] {
    return [...this.#domains.values()].map((d) => ({
      domid: d.domid,
      name: d.name,
      pid: d.pid,
      status: d.status,
      vcpus: d.config.vcpus,
      vcpuThreads: d.vcpuThreads,
      memory: d.config.memory,
      maxmem: d.config.maxmem ?? d.config.memory,
      disks: d.config.disk.length,
      taps: d.config.vif.map((vif, i) => (vif.bridge ? (vif.vifname ?? plannedTap(d, i)) : null)),
      query: <T>(command: string, args?: object) => d.qmp.execute<T>(command, args, { timeoutMs: 5000 }),
    }));
  }

  /** Look a domain up by name or numeric id, as xm does. */
  info(ref: string | number): DomainInfo {
    return this.#info(this.#find(ref));
  }

  /** The config a domain runs with (as changed by mem-set, rename, ...). */
  configOf(ref: string | number): DomainConfig {
    return this.#find(ref).config;
  }

  /**
   * The QMP connection of a domain, for the rooms that drive QEMU jobs on it (save, migration,
   * snapshots, backups). Refused in the states where its QEMU is not usable.
   */
  qmpOf(ref: string | number, operation: DomainOperation): QmpClient {
    const domain = this.#find(ref, operation);
    this.#require(domain, operation);
    return domain.qmp;
  }

  /** Like info(), but undefined instead of NoSuchDomain (and Domain-0 is not a managed domain). */
  lookup(ref: string | number): DomainInfo | undefined {
    try {
      return this.info(ref);
    } catch {
      return undefined;
    }
  }

  async create(config: DomainConfig, opts: CreateOptions = {}): Promise<DomainInfo> {
    if (config.name === 'Domain-0') throw new DomainError('PrivilegedDomain', 'Domain-0 is the host; choose another name');
    const uuid = opts.uuid ?? config.uuid ?? randomUUID();
    for (const d of this.#domains.values()) {
      if (d.name === config.name) throw new DomainError('DomainExists', `domain '${config.name}' already exists (id ${d.domid}); destroy it or choose another name`);
      if (d.uuid === uuid) throw new DomainError('DomainExists', `a domain with uuid ${uuid} already runs as '${d.name}'`);
    }
    if (this.#reservedNames.has(config.name)) throw new DomainError('DomainExists', `domain '${config.name}' is being created already`);
    this.#reservedNames.add(config.name);
    try {
      return this.#info(await this.#start(config, uuid, opts));
    } finally {
      this.#reservedNames.delete(config.name);
    }
  }

  async destroy(ref: string | number): Promise<void> {
    const domain = this.#find(ref, 'destroy');
    this.#require(domain, 'destroy');
    await this.#end(domain, 'destroyed');
  }

  async pause(ref: string | number): Promise<void> {
    const domain = this.#find(ref, 'pause');
    this.#require(domain, 'pause');
    await domain.qmp.execute('stop');
    domain.status = 'paused';
    this.#emit({ kind: 'paused', domid: domain.domid, name: domain.name });
  }

  async unpause(ref: string | number): Promise<void> {
    const domain = this.#find(ref, 'unpause');
    this.#require(domain, 'unpause');
    await domain.qmp.execute('cont');
    domain.status = 'running';
    this.#emit({ kind: 'unpaused', domid: domain.domid, name: domain.name });
  }

  /** Force Reset: like the reset button, no guest cooperation. */
  async reset(ref: string | number): Promise<void> {
    const domain = this.#find(ref, 'reset');
    this.#require(domain, 'reset');
    await domain.qmp.execute('system_reset');
  }

  /** Press the ACPI power button. The domain's on_poweroff action runs when the guest is off. */
  async shutdown(ref: string | number, opts: ShutdownOptions = {}): Promise<void> {
    const domain = this.#find(ref, 'shutdown');
    this.#require(domain, 'shutdown');
    await this.#powerButton(domain, opts);
  }

  /** Press the ACPI power button and start the domain again when it is off (Xen's `xm reboot`). */
  async reboot(ref: string | number, opts: ShutdownOptions = {}): Promise<void> {
    const domain = this.#find(ref, 'reboot');
    this.#require(domain, 'reboot');
    domain.rebootRequested = true;
    await this.#powerButton(domain, opts);
  }

  /** Press keys together on the guest keyboard, QEMU qcode names: ['ctrl', 'alt', 'delete']. */
  async sendKey(ref: string | number, qcodes: readonly string[]): Promise<void> {
    const domain = this.#find(ref, 'send keys to');
    this.#require(domain, 'sendKey');
    if (qcodes.length === 0 || qcodes.some((k) => !/^[a-z0-9_]+$/.test(k))) {
      throw new DomainError('InvalidState', `not a key chord: ${JSON.stringify(qcodes)}; use QEMU key names such as ctrl, alt, delete, f1, a`);
    }
    await domain.qmp.execute('send-key', { keys: qcodes.map((data) => ({ type: 'qcode', data })) });
  }

  /** Write the guest's screen as a PNG file (QEMU writes it; the path must be absolute). */
  async screenshot(ref: string | number, path: string): Promise<void> {
    const domain = this.#find(ref, 'screenshot');
    this.#require(domain, 'screenshot');
    await domain.qmp.execute('screendump', { filename: path, format: 'png' });
  }

  /** `xm rename`: the runtime dir moves with the name; QEMU keeps its open sockets. */
  async rename(ref: string | number, newName: string): Promise<DomainInfo> {
    const domain = this.#find(ref, 'rename');
    this.#require(domain, 'rename');
    if (newName === 'Domain-0') throw new DomainError('PrivilegedDomain', 'Domain-0 is the host; choose another name');
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(newName)) {
      throw new DomainError('InvalidState', `'${newName}' is not a valid domain name: use 1-64 letters, digits, '_', '.' or '-'`);
    }
    for (const d of this.#domains.values()) {
      if (d.name === newName) throw new DomainError('DomainExists', `domain '${newName}' already exists (id ${d.domid})`);
    }
    const previousName = domain.name;
    const newDir = this.#opts.paths.domainRuntimeDir(newName);
    await rename(domain.runtimeDir, newDir);
    domain.runtimeDir = newDir;
    domain.name = newName;
    domain.config = { ...domain.config, name: newName };
    await this.#writeRuntimeRecord(domain);
    this.#emit({ kind: 'renamed', domid: domain.domid, name: newName, previousName });
    return this.#info(domain);
  }

  /** `xm mem-set`: the balloon target in MiB, up to the memory the guest booted with. */
  async memSet(ref: string | number, mib: number): Promise<void> {
    const domain = this.#find(ref, 'mem-set');
    this.#require(domain, 'memSet');
    const max = domain.config.maxmem ?? domain.config.memory;
    if (!Number.isInteger(mib) || mib < 16 || mib > Math.max(max, domain.config.memory)) {
      throw new DomainError('InvalidState', `memory must be a whole number of MiB between 16 and the domain's maxmem (${max}); raise maxmem with mem-max and restart the domain to go higher`);
    }
    await domain.qmp.execute('balloon', { value: mib * 1024 * 1024 });
    domain.config = { ...domain.config, memory: mib };
    await this.#writeRuntimeRecord(domain);
    this.#emit({ kind: 'memory', domid: domain.domid, name: domain.name, memory: mib });
  }

  /**
   * `xm mem-max`: the ceiling for mem-set. QEMU cannot add memory a running guest did not boot
   * with, so a higher value is recorded and takes effect at the next start.
   */
  async memMax(ref: string | number, mib: number): Promise<{ effectiveNow: boolean }> {
    const domain = this.#find(ref, 'mem-max');
    if (!Number.isInteger(mib) || mib < domain.config.memory) {
      throw new DomainError('InvalidState', `maxmem must be a whole number of MiB and at least the current memory (${domain.config.memory})`);
    }
    const booted = Math.max(domain.config.memory, domain.config.maxmem ?? domain.config.memory);
    domain.config = { ...domain.config, maxmem: mib };
    await this.#writeRuntimeRecord(domain);
    return { effectiveNow: mib <= booted };
  }

  /**
   * `xm vcpu-set`: plug vCPUs in or out, up to maxvcpus (QEMU CPU hotplug). Adding is immediate;
   * removing needs the guest to release the vCPU (ACPI eject), which it may refuse.
   */
  async vcpuSet(ref: string | number, count: number): Promise<void> {
    const domain = this.#find(ref, 'vcpu-set');
    this.#require(domain, 'vcpuSet');
    const max = domain.config.maxvcpus ?? domain.config.vcpus;
    if (!Number.isInteger(count) || count < 1 || count > max) {
      throw new DomainError('InvalidState', `vcpus must be between 1 and the domain's maxvcpus (${max}); raise maxvcpus in the config and restart the domain to go higher`);
    }
    type Slot = { type: string; props: Record<string, number>; 'qom-path'?: string };
    const slots = await domain.qmp.execute<Slot[]>('query-hotpluggable-cpus');
    const present = slots.filter((s) => s['qom-path']);
    if (count > present.length) {
      const free = slots.filter((s) => !s['qom-path']).sort((a, b) => slotOrder(a.props) - slotOrder(b.props));
      for (const slot of free.slice(0, count - present.length)) {
        await domain.qmp.execute('device_add', { driver: slot.type, id: `vcpu-${slotOrder(slot.props)}`, ...slot.props });
      }
    } else if (count < present.length) {
      // Only vCPUs plugged in after boot can be unplugged; they carry our ids under /machine/peripheral.
      const removable = present
        .filter((s) => s['qom-path']!.startsWith('/machine/peripheral/'))
        .sort((a, b) => slotOrder(b.props) - slotOrder(a.props));
      if (present.length - removable.length > count) {
        throw new DomainError('InvalidState', `only vCPUs added with vcpu-set can be removed; domain '${domain.name}' booted with ${present.length - removable.length}`);
      }
      for (const slot of removable.slice(0, present.length - count)) {
        const id = slot['qom-path']!.slice('/machine/peripheral/'.length);
        const deleted = domain.qmp.events.waitFor('DEVICE_DELETED', { predicate: (e) => (e.data as { device?: string }).device === id, timeoutMs: 15_000 });
        await domain.qmp.execute('device_del', { id });
        await deleted.catch(() => {
          throw new DomainError('InvalidState', `the guest did not release vCPU ${id} within 15 s; it must support ACPI CPU hot-unplug`);
        });
      }
    }
    const cpus = await domain.qmp.execute<Array<{ 'thread-id': number }>>('query-cpus-fast');
    domain.vcpuThreads = cpus.map((c) => c['thread-id']);
    domain.config = { ...domain.config, vcpus: cpus.length };
    await this.#sched.applyToNewThreads(domain.pid, domain.vcpuThreads, domain.config);
    await this.#writeRuntimeRecord(domain);
    this.#emit({ kind: 'vcpus', domid: domain.domid, name: domain.name, vcpus: cpus.length });
  }

  /** vCPU threads as Xen's vcpu-list shows them: host CPU last used, state, CPU time, affinity. */
  async vcpuList(ref: string | number): Promise<VcpuInfo[]> {
    const domain = this.#find(ref, 'list vcpus of');
    this.#require(domain, 'vcpuList');
    const cpus = await domain.qmp.execute<Array<{ 'cpu-index': number; 'thread-id': number }>>('query-cpus-fast');
    domain.vcpuThreads = cpus.map((c) => c['thread-id']);
    return cpus.map((c) => {
      const tid = c['thread-id'];
      const stat = readProcStat(domain.pid, tid);
      const state = domain.status === 'running' ? (stat?.state === 'R' ? 'r--' : '-b-') : '--p';
      return { vcpu: c['cpu-index'], thread: tid, cpu: stat?.processor, state, cpuTime: stat?.cpuSeconds ?? 0, affinity: readAffinity(domain.pid, tid) };
    });
  }

  /** `xm sysrq D key`: Alt+SysRq+key on the guest keyboard. */
  async sysrq(ref: string | number, key: string): Promise<void> {
    const domain = this.#find(ref, 'sysrq');
    this.#require(domain, 'sysrq');
    if (!/^[a-z0-9]$/.test(key)) throw new DomainError('InvalidState', `sysrq key must be one letter or digit, got '${key}'`);
    await domain.qmp.execute('send-key', { keys: ['alt', 'sysrq', key].map((data) => ({ type: 'qcode', data })) });
  }

  /**
   * `xm dump-core`: write guest memory as an ELF core. The guest is paused during the dump unless
   * `live`; `crash` destroys it afterwards, `reset` resets it.
   */
  async dumpCore(ref: string | number, opts: { path?: string; live?: boolean; crash?: boolean; reset?: boolean } = {}): Promise<string> {
    const domain = this.#find(ref, 'dump-core');
    this.#require(domain, 'dumpCore');
    const pauseIt = !opts.live && domain.status === 'running';
    if (pauseIt) await domain.qmp.execute('stop');
    let path: string;
    try {
      path = await this.#writeDump(domain, opts.path);
    } finally {
      if (pauseIt && !opts.crash) await domain.qmp.execute('cont');
    }
    if (opts.crash) await this.#end(domain, 'dump-core -C');
    else if (opts.reset) await domain.qmp.execute('system_reset');
    return path;
  }

  /** A live domain for device hotplug (engine/domains/hotplug.ts). */
  live(ref: string | number, operation: string): LiveDomain {
    const domain = this.#find(ref, operation);
    this.#require(domain, 'hotplug');
    return { domid: domain.domid, name: domain.name, config: domain.config, macs: [...domain.macs], qmp: domain.qmp };
  }

  /** Record the devices a live domain now has (after hotplug), so re-adoption and restarts keep them. */
  async commitDevices(domid: number, config: DomainConfig, macs: string[], detail: string): Promise<void> {
    const domain = this.#domains.get(domid);
    if (!domain) throw new DomainError('NoSuchDomain', `Domain '${domid}' does not exist.`);
    domain.config = config;
    domain.macs = macs;
    await this.#writeRuntimeRecord(domain);
    this.#emit({ kind: 'devices', domid, name: domain.name, detail });
  }

  /** Path of the serial console socket and log of a domain (for console relays). */
  consolePaths(ref: string | number): { socket: string; log: string } {
    const domain = this.#find(ref);
    return { socket: join(domain.runtimeDir, 'serial.sock'), log: join(domain.runtimeDir, 'serial.log') };
  }

  /**
   * Take over every domain whose QEMU still runs (after an engine restart or crash), with the
   * ids, names and uuids it had; clear the runtime dirs of those that died meanwhile.
   */
  async adoptAll(): Promise<{ adopted: DomainInfo[]; cleaned: string[] }> {
    const root = join(this.#opts.paths.runtimeDir, 'domains');
    const adopted: DomainInfo[] = [];
    const cleaned: string[] = [];
    let names: string[] = [];
    try {
      names = await readdir(root);
    } catch {
      // no domains dir yet
    }
    this.#nextDomid = Math.max(this.#nextDomid, await this.#readNextDomid());
    await this.#sched.sweep();
    for (const name of names.sort()) {
      const dir = join(root, name);
      try {
        const domain = await this.#adopt(dir);
        if (domain) {
          adopted.push(this.#info(domain));
          continue;
        }
      } catch (err) {
        this.#log('warn', `could not re-adopt ${name}: ${(err as Error).message}`);
      }
      await rm(dir, { recursive: true, force: true });
      cleaned.push(name);
      this.#log('info', `cleaned up after domain ${name}, whose QEMU is no longer running`);
    }
    return { adopted, cleaned };
  }

  async #adopt(dir: string): Promise<Domain | undefined> {
    const record = JSON.parse(await readFile(join(dir, 'domain.json'), 'utf8')) as RuntimeRecord;
    const stat = readProcStat(record.pid);
    // The pid alone could have been reused by another process since: the start time must match too.
    if (!stat || !isProcessAlive(record.pid) || (record.pidStartTicks !== undefined && stat.startTicks !== record.pidStartTicks)) {
      return undefined;
    }
    const qmp = await QmpClient.connect(join(dir, 'qmp.sock'), { connectTimeoutMs: 5000 });
    const { config } = loadDomainConfigText(record.config, join(dir, 'domain.json'));
    const status = await qmp.execute<{ status: string }>('query-status');
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const domain: Domain = {
      domid: record.domid,
      name: record.name,
      uuid: record.uuid,
      config,
      accel: record.accel,
      pid: record.pid,
      qmp,
      runtimeDir: dir,
      status: status.status === 'running' ? 'running' : 'paused',
      startTime: record.startTime,
      restartCount: record.restartCount,
      macs: record.macs,
      vcpuThreads: [],
      rebootRequested: false,
      ending: false,
      gone,
      markGone,
    };
    const cpus = await qmp.execute<Array<{ 'thread-id': number }>>('query-cpus-fast');
    domain.vcpuThreads = cpus.map((c) => c['thread-id']);
    this.#sched.adopt(domain.pid);
    this.#domains.set(domain.domid, domain);
    this.#nextDomid = Math.max(this.#nextDomid, domain.domid + 1);
    this.#watch(domain);
    this.#log('info', `re-adopted domain ${domain.name} (id=${domain.domid}, pid ${domain.pid}, ${status.status})`);
    // The guest stopped while nobody was watching: apply what the config says now.
    if (status.status === 'shutdown') void this.#guestStopped(domain, 'poweroff');
    if (status.status === 'guest-panicked') void this.#guestStopped(domain, 'crash');
    return domain;
  }

  /** Domain ids are not reused while the host is up (the file lives in the runtime dir). */
  async #readNextDomid(): Promise<number> {
    try {
      const n = Number((await readFile(join(this.#opts.paths.runtimeDir, 'next-domid'), 'utf8')).trim());
      return Number.isInteger(n) && n > 0 ? n : 1;
    } catch {
      return 1;
    }
  }

  async #saveNextDomid(): Promise<void> {
    await mkdir(this.#opts.paths.runtimeDir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.#opts.paths.runtimeDir, 'next-domid'), `${this.#nextDomid}\n`);
  }

  /** Stop managing domains without touching them (engine stop): they keep running. */
  async detachAll(): Promise<void> {
    for (const domain of this.#domains.values()) {
      domain.ending = true;
      domain.qmp.close();
    }
    this.#domains.clear();
  }

  async #powerButton(domain: Domain, opts: ShutdownOptions): Promise<void> {
    await domain.qmp.execute('system_powerdown');
    if (!opts.wait) return;
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    // "Done" is the configured action having run: the domain left (destroy/restart), or sits in `s`.
    const done = new Promise<'done'>((resolve) => {
      const sub = this.onEvent((e) => {
        if ((e.kind === 'shutdown' || e.kind === 'destroyed') && e.domid === domain.domid) {
          sub.dispose();
          resolve('done');
        }
      });
      void domain.gone.then(() => {
        sub.dispose();
        resolve('done');
      });
    });
    const outcome = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      domain.rebootRequested = false;
      throw new DomainError(
        'ShutdownTimeout',
        `domain '${domain.name}' did not power off within ${Math.round(timeoutMs / 1000)} s; its OS may ignore the ACPI power button (use destroy to force it off)`,
      );
    }
  }

  async #start(config: DomainConfig, uuid: string, opts: CreateOptions): Promise<Domain> {
    const runtimeDir = this.#opts.paths.domainRuntimeDir(config.name);
    preflightDomain(config, runtimeDir, { sysClassNet: this.#opts.sysClassNet });
    const inUse = new Set([...this.#domains.values()].flatMap((d) => d.macs));
    const macs = config.vif.map((vif, i) => vif.mac ?? opts.macs?.[i] ?? randomXenMac(inUse));
    const plan = planQemu(config, { accel: this.#opts.accel, runtimeDir, uuid, macFor: (i) => macs[i]! });

    // A leftover dir under this name belongs to no running domain (we hold the name): clear it.
    await rm(runtimeDir, { recursive: true, force: true });
    await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    let launched;
    try {
      const argv = qemuArgv(plan.options);
      if (opts.incoming) argv.push('-incoming', 'defer');
      launched = await launchQemu({ binary: this.#opts.qemuBinary, argv, runtimeDir });
    } catch (err) {
      await rm(runtimeDir, { recursive: true, force: true });
      throw err instanceof QemuStartError ? err.forDomain(config.name) : err;
    }
    const { pid, qmp } = launched;
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const domain: Domain = {
      domid: this.#nextDomid++,
      name: config.name,
      uuid,
      config,
      accel: this.#opts.accel,
      pid,
      qmp,
      runtimeDir,
      status: 'paused',
      startTime: Date.now(),
      restartCount: opts.restartCount ?? 0,
      macs,
      vcpuThreads: [],
      rebootRequested: false,
      ending: false,
      gone,
      markGone,
    };
    try {
      if (opts.incoming) await opts.incoming(qmp, runtimeDir);
      await this.#setup(domain, plan.nics);
      if (!opts.paused) {
        await qmp.execute('cont');
        domain.status = 'running';
      }
    } catch (err) {
      domain.ending = true;
      await this.#kill(domain);
      this.#sched.release(pid);
      await rm(runtimeDir, { recursive: true, force: true });
      throw err;
    }
    this.#domains.set(domain.domid, domain);
    this.#watch(domain);
    await this.#writeRuntimeRecord(domain);
    await this.#saveNextDomid();
    this.#log('info', `started domain ${domain.name} (id=${domain.domid}, pid ${pid}, ${domain.accel})`);
    this.#emit({ kind: 'started', domid: domain.domid, name: domain.name });
    return domain;
  }

  /** What happens between "QEMU built" and "guest runs". */
  async #setup(domain: Domain, nics: ReturnType<typeof planQemu>['nics']): Promise<void> {
    const { config, qmp } = domain;
    const cpus = await qmp.execute<Array<{ 'thread-id': number }>>('query-cpus-fast');
    domain.vcpuThreads = cpus.map((c) => c['thread-id']);
    const schedWarning = await this.#sched.applyAtStart(domain.pid, domain.vcpuThreads, config);
    if (schedWarning) this.#log('warn', `domain ${domain.name}: runs without CPU weight/cap control: ${schedWarning}`);
    const maxmem = config.maxmem ?? config.memory;
    if (maxmem > config.memory) await qmp.execute('balloon', { value: config.memory * 1024 * 1024 });
    const vnc = config.vfb.find((v) => v.type === 'vnc');
    if (vnc?.vncpasswd && !config.nographic) await qmp.execute('set_password', { protocol: 'vnc', password: vnc.vncpasswd });
    for (const nic of nics) {
      if (!nic.tap || !nic.vif.bridge) continue;
      // Xen's vif-bridge script did this: enslave the domain's tap to the bridge and bring it up.
      await execFileAsync('ip', ['link', 'set', 'dev', nic.tap, 'master', nic.vif.bridge, 'up']);
    }
  }

  #watch(domain: Domain): void {
    const { qmp } = domain;
    qmp.events.on('SHUTDOWN', (event) => {
      const data = event.data as { guest?: boolean; reason?: string };
      // Our own `quit` and signals are not the guest's doing.
      if (!data.guest) return;
      const reason: ShutdownReason = data.reason === 'guest-reset' || domain.rebootRequested ? 'reboot' : 'poweroff';
      void this.#guestStopped(domain, reason);
    });
    qmp.events.on('GUEST_PANICKED', () => void this.#guestStopped(domain, 'crash'));
    qmp.events.on('STOP', () => {
      if (domain.status === 'running') domain.status = 'paused';
    });
    qmp.events.on('RESUME', () => {
      if (domain.status === 'paused') domain.status = 'running';
    });
    void qmp.closed.then(async () => {
      if (domain.ending || !this.#domains.has(domain.domid)) return;
      // QEMU went away without us asking (killed, or crashed itself): for the guest, that is a crash.
      this.#log('warn', `QEMU of domain ${domain.name} (pid ${domain.pid}) exited unexpectedly`);
      domain.ending = true;
      await this.#forget(domain, 'QEMU exited');
      await this.#applyAfterExit(domain, 'crash');
    });
  }

  /** The guest powered off, asked for a reboot, or panicked: QEMU is paused waiting for us. */
  async #guestStopped(domain: Domain, reason: ShutdownReason): Promise<void> {
    if (domain.ending || domain.status === 'shutdown' || domain.status === 'crashed') return;
    domain.shutdownReason = reason;
    domain.status = reason === 'crash' ? 'crashed' : 'shutdown';
    const action = domain.rebootRequested && reason === 'reboot' ? 'restart' : actionFor(domain.config, reason);
    this.#log('info', `domain ${domain.name} (id=${domain.domid}) ${reason === 'crash' ? 'crashed' : `shut down (${reason})`}; action: ${action}`);
    this.#emit({ kind: 'shutdown', domid: domain.domid, name: domain.name, reason, action });
    try {
      await this.#applyAction(domain, reason, action);
    } catch (err) {
      this.#log('error', `domain ${domain.name}: ${action} failed: ${(err as Error).message}`);
    }
  }

  async #applyAction(domain: Domain, reason: ShutdownReason, action: LifecycleAction): Promise<void> {
    if (action === 'preserve') return;
    if (action === 'coredump-destroy' || action === 'coredump-restart') await this.#coredump(domain);
    const restart = action === 'restart' || action === 'rename-restart' || action === 'coredump-restart';
    if (!restart) {
      await this.#end(domain, `${reason}: ${action}`);
      return;
    }
    const guard = this.#opts.restartGuardMs ?? RESTART_GUARD_MS;
    if (Date.now() - domain.startTime < guard) {
      this.#log('warn', `domain ${domain.name} restarted within ${guard / 1000} s of starting; destroying it instead to avoid a restart loop`);
      await this.#end(domain, `${reason}: restarting too fast, destroyed`);
      return;
    }
    const identity: RestartIdentity = { domid: domain.domid, config: domain.config, uuid: domain.uuid, macs: domain.macs, restartCount: domain.restartCount };
    if (action === 'rename-restart') {
      await this.#renameForPreservation(domain);
    } else {
      domain.ending = true;
      await this.#kill(domain);
      await this.#forget(domain, `${reason}: ${action}`);
    }
    await this.#restartFrom(identity);
  }

  /** After QEMU vanished on its own: only restart-type actions matter, the process is gone. */
  async #applyAfterExit(domain: Domain, reason: ShutdownReason): Promise<void> {
    const action = actionFor(domain.config, reason);
    const restart = action === 'restart' || action === 'rename-restart' || action === 'coredump-restart';
    const guard = this.#opts.restartGuardMs ?? RESTART_GUARD_MS;
    if (!restart || Date.now() - domain.startTime < guard) return;
    await this.#restartFrom(domain).catch((err: Error) => this.#log('error', `restarting ${domain.name} failed: ${err.message}`));
  }

  async #restartFrom(old: RestartIdentity): Promise<void> {
    const fresh = await this.#start(old.config, old.uuid, { macs: old.macs, restartCount: old.restartCount + 1 });
    this.#emit({ kind: 'restarted', domid: fresh.domid, name: fresh.name, previousDomid: old.domid, restartCount: fresh.restartCount });
  }

  /** rename-restart: the dead domain stays (paused, for inspection) under a new name and uuid, Xen's `Domain-<uuid>`. */
  async #renameForPreservation(domain: Domain): Promise<void> {
    const previousName = domain.name;
    const newUuid = randomUUID();
    const newName = `Domain-${newUuid}`;
    const newDir = this.#opts.paths.domainRuntimeDir(newName);
    // QEMU keeps its open sockets and log file across the rename; only new connections use the new path.
    await rename(domain.runtimeDir, newDir);
    domain.runtimeDir = newDir;
    domain.name = newName;
    domain.uuid = newUuid;
    domain.config = { ...domain.config, name: newName, uuid: newUuid };
    await this.#writeRuntimeRecord(domain);
    this.#emit({ kind: 'renamed', domid: domain.domid, name: newName, previousName });
  }

  async #coredump(domain: Domain): Promise<void> {
    const path = await this.#writeDump(domain);
    this.#log('info', `wrote core dump of ${domain.name} to ${path}`);
    this.#emit({ kind: 'coredump', domid: domain.domid, name: domain.name, path });
  }

  /** Guest memory as an ELF core, by default to <data>/dump/<name>-<time>.core. */
  async #writeDump(domain: Domain, path?: string): Promise<string> {
    await mkdir(this.#opts.paths.dumpDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const target = path ?? join(this.#opts.paths.dumpDir, `${domain.name}-${stamp}.core`);
    await domain.qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${target}` }, { timeoutMs: 10 * 60_000 });
    return target;
  }

  /** Destroy: kill QEMU, remove every runtime file, drop the domain. */
  async #end(domain: Domain, why: string): Promise<void> {
    domain.ending = true;
    domain.status = 'dying';
    await this.#kill(domain);
    await this.#forget(domain, why);
  }

  /** Make the QEMU process go away: `quit` over QMP, SIGKILL if that does not close QMP promptly. */
  async #kill(domain: Domain): Promise<void> {
    const { qmp, pid } = domain;
    const closed = qmp.closed.then(() => true);
    qmp.execute('quit').catch(() => undefined);
    const quick = await Promise.race([closed, delay(5000).then(() => false)]);
    if (!quick && isProcessAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
      qmp.close();
    }
    await closed;
    // QMP closing means QEMU has closed its sockets; wait (bounded) until the pid is no longer a live process.
    for (let i = 0; i < 200 && isProcessAlive(pid); i++) await delay(10);
  }

  async #forget(domain: Domain, why: string): Promise<void> {
    if (!this.#domains.delete(domain.domid)) return;
    this.#sched.release(domain.pid);
    await rm(domain.runtimeDir, { recursive: true, force: true });
    this.#log('info', `domain ${domain.name} (id=${domain.domid}) destroyed: ${why}`);
    this.#emit({ kind: 'destroyed', domid: domain.domid, name: domain.name, why });
    domain.markGone();
  }

  async #writeRuntimeRecord(domain: Domain): Promise<void> {
    // Enough to find and re-adopt this QEMU after an engine restart: identity, pid and the config it runs.
    const record: RuntimeRecord = {
      domid: domain.domid,
      name: domain.name,
      uuid: domain.uuid,
      pid: domain.pid,
      pidStartTicks: readProcStat(domain.pid)?.startTicks,
      accel: domain.accel,
      startTime: domain.startTime,
      restartCount: domain.restartCount,
      macs: domain.macs,
      config: serializeDomainConfig(domain.config),
    };
    await writeFileAtomic(join(domain.runtimeDir, 'domain.json'), JSON.stringify(record, null, 2) + '\n', 0o600);
  }

  #find(ref: string | number, operation = 'use'): Domain {
    if (ref === 0 || ref === '0' || ref === 'Domain-0') {
      // Xen's words: "Cannot destroy privileged domain 0".
      throw new DomainError('PrivilegedDomain', `Cannot ${operation} privileged domain ${ref}`);
    }
    const asId = typeof ref === 'number' ? ref : /^\d+$/.test(ref) ? Number(ref) : undefined;
    if (asId !== undefined) {
      const byId = this.#domains.get(asId);
      if (byId) return byId;
    }
    for (const d of this.#domains.values()) if (d.name === ref) return d;
    throw new DomainError('NoSuchDomain', `Domain '${ref}' does not exist.`);
  }

  #require(domain: Domain, operation: DomainOperation): void {
    if (!isAllowed(operation, domain.status)) {
      throw new DomainError('InvalidState', `cannot ${operation} domain '${domain.name}' while it is ${domain.status}`);
    }
  }

  #info(d: Domain): DomainInfo {
    const stat = readProcStat(d.pid);
    const onCpu = d.status === 'running' && d.vcpuThreads.some((tid) => readProcStat(d.pid, tid)?.state === 'R');
    return {
      domid: d.domid,
      name: d.name,
      uuid: d.uuid,
      status: d.status,
      state: stateLetters(d.status, onCpu),
      memory: d.config.memory,
      maxmem: d.config.maxmem ?? d.config.memory,
      vcpus: d.config.vcpus,
      cpuTime: stat?.cpuSeconds ?? 0,
      accel: d.accel,
      pid: d.pid,
      startTime: d.startTime,
      restartCount: d.restartCount,
      shutdownReason: d.shutdownReason,
      runtimeDir: d.runtimeDir,
      macs: [...d.macs],
    };
  }

  #emit(event: DomainEvent): void {
    this.#events.emit('event', event);
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#opts.log?.(level, message);
  }
}

/** The host tap the QEMU plan gave a bridged vif (the plan owns the naming rule). */
function plannedTap(d: Domain, index: number): string | null {
  const plan = planQemu(d.config, { accel: d.accel, runtimeDir: d.runtimeDir, uuid: d.uuid, macFor: (i) => d.macs[i] ?? '00:16:3e:00:00:00' });
  return plan.nics[index]?.tap ?? null;
}

function actionFor(config: DomainConfig, reason: ShutdownReason): LifecycleAction {
  return reason === 'poweroff' ? config.on_poweroff : reason === 'reboot' ? config.on_reboot : config.on_crash;
}

/** Hotplug slots in socket/core/thread order. */
function slotOrder(props: Record<string, number>): number {
  return (props['socket-id'] ?? 0) * 65536 + (props['core-id'] ?? 0) * 256 + (props['thread-id'] ?? 0);
}

function readAffinity(pid: number, tid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1]?.trim() ?? '';
    return list === `0-${cpus().length - 1}` || (cpus().length === 1 && list === '0') ? 'any cpu' : list;
  } catch {
    return 'any cpu';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
