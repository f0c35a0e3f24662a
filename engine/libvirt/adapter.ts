// The adapter: serves Dom0's domain API (the libvirt subset of xend's methods, with xend's
// schemas) from one libvirt connection. Lists and stats come from one ConnectGetAllDomainStats
// call; state changes come from libvirt's domain event callbacks (nothing polls the list);
// consoles are libvirt streams (serial) or channels to the guest's VNC server (locally a socket,
// remotely through the same SSH connection).

import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';
import { RpcError } from '../protocol/common/errors.js';
import type { Handlers, HandlerParamsOf, HandlerResultOf } from '../protocol/common/define.js';
import type { DomainRow } from '../protocol/common/xend-api.js';
import type { statsEvents } from '../protocol/common/xend-api-stats.js';
import { libvirtDomainMethods, type LibvirtDomainMethods } from '../protocol/common/connections-api.js';
import type { LibvirtConnection } from './connect.js';
import type { Disposable } from './client.js';
import { LibvirtRemoteError, VirErr } from './errors.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from './generated/remote-protocol.js';
import { diskFilesOf, snapshotFactsOf, vncListenerOf, xmlEscape } from './domain-xml.js';
import { sshOpenTcp, sshOpenUnix } from './ssh.js';

type Tick = z.input<(typeof statsEvents)['stats.sample']['data']>;
type DomainTick = Tick['domains'][number];

export interface DomainChange {
  kind: 'started' | 'paused' | 'unpaused' | 'shutdown' | 'destroyed' | 'restarted' | 'defined' | 'undefined';
  name: string;
  domid?: number;
  detail?: string;
}

export interface AdapterSinks {
  domainChanged(change: DomainChange): void;
  statsSample(tick: Tick): void;
  /** Whether anyone listens: without clients the tick costs libvirtd nothing. Default: yes. */
  wantsStats?(): boolean;
}

/** virDomainState */
const State = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 } as const;
/** virConnectGetAllDomainStats' stats and flags. */
const Stats = { STATE: 1, CPU_TOTAL: 2, BALLOON: 4, VCPU: 8 } as const;
const STATS_ACTIVE = 1;
/** virDomainEventID and virDomainEventType. */
const EVENT_ID_LIFECYCLE = 0;
const EVENT_ID_REBOOT = 1;
const Ev = { DEFINED: 0, UNDEFINED: 1, STARTED: 2, SUSPENDED: 3, RESUMED: 4, STOPPED: 5, SHUTDOWN: 6, PMSUSPENDED: 7, CRASHED: 8 } as const;
const STOPPED_DETAIL = ['shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot'];
const CONSOLE_FORCE = 1;
const UNDEFINE_MANAGED_SAVE = 1;
const UNDEFINE_SNAPSHOTS_METADATA = 2;
const UNDEFINE_NVRAM = 4;

function statusOf(state: number): DomainRow['status'] {
  switch (state) {
    case State.RUNNING:
    case State.BLOCKED:
    case State.NOSTATE:
      return 'running';
    case State.PAUSED:
    case State.PMSUSPENDED:
      return 'paused';
    case State.SHUTDOWN:
      return 'shutdown';
    case State.CRASHED:
      return 'crashed';
    default:
      return 'halted';
  }
}

/** Xen's `rbpscd` letters for a libvirt state. */
function lettersOf(state: number): string {
  const i = ({ [State.RUNNING]: 0, [State.NOSTATE]: 0, [State.BLOCKED]: 1, [State.PAUSED]: 2, [State.PMSUSPENDED]: 2, [State.SHUTDOWN]: 3, [State.CRASHED]: 4 } as Record<number, number>)[state];
  return i === undefined ? '------' : '------'.slice(0, i) + 'rbpscd'[i] + '------'.slice(i + 1);
}

export function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function params(list: RemoteTypedParam[]): Map<string, number | string | boolean> {
  const m = new Map<string, number | string | boolean>();
  for (const p of list) {
    const v = p.value as Record<string, unknown>;
    const raw = v.i ?? v.ui ?? v.l ?? v.ul ?? v.d ?? v.b ?? v.s;
    m.set(p.field, typeof raw === 'bigint' ? Number(raw) : (raw as number | string | boolean));
  }
  return m;
}

/** libvirt errors → xend's named errors, so clients handle both kinds of connection alike. */
function named(err: unknown): unknown {
  if (!(err instanceof LibvirtRemoteError)) return err;
  if (err.code === VirErr.NO_DOMAIN) return new RpcError('NoSuchDomain', err.message);
  if (err.code === VirErr.OPERATION_INVALID) return new RpcError('InvalidState', err.message);
  if (err.code === VirErr.NO_DOMAIN_SNAPSHOT) return new RpcError('NoSuchSnapshot', err.message);
  if (err.procedure.includes('Snapshot')) return new RpcError('SnapshotError', err.message);
  if (err.code === VirErr.ACCESS_DENIED || err.code === VirErr.OPERATION_DENIED) return new RpcError('PermissionDenied', err.message);
  return new RpcError('LibvirtError', err.message, { code: err.code, domain: err.domain });
}

/** Snapshots in the order taken: creation time (whole seconds in libvirt), a parent before its children. */
function takenOrder<T extends { name: string; parent?: string; createdAt: number }>(rows: T[]): T[] {
  const pending = [...rows].sort((a, b) => a.createdAt - b.createdAt);
  const names = new Set(rows.map((r) => r.name));
  const placed = new Set<string>();
  const out: T[] = [];
  while (pending.length) {
    const i = pending.findIndex((r) => r.parent === undefined || !names.has(r.parent) || placed.has(r.parent));
    const [next] = pending.splice(i < 0 ? 0 : i, 1);
    out.push(next!);
    placed.add(next!.name);
  }
  return out;
}

interface Sample {
  time: number;
  cpuNs: number;
}

export class LibvirtAdapter {
  private readonly disposables: Disposable[] = [];
  private readonly last = new Map<string, Sample>();
  private readonly history = new Map<string, { domid: number; points: DomainTick[] }>();
  private timer: NodeJS.Timeout | undefined;
  private hostname = '';
  private hostCpus = 1;
  private hostMemMiB = 0;
  private ticking = false;

  constructor(
    readonly conn: LibvirtConnection,
    private readonly sinks: AdapterSinks,
    private readonly intervalMs = 1000,
  ) {}

  /** Registers for libvirt's events and starts the stats tick. */
  async start(): Promise<void> {
    const c = this.conn.client;
    this.hostname = (await c.call('ConnectGetHostname')).hostname;
    const info = await c.call('NodeGetInfo');
    this.hostCpus = info.cpus || 1;
    this.hostMemMiB = Number(info.memory) / 1024;
    const lifecycle = await c.call('ConnectDomainEventCallbackRegisterAny', { eventID: EVENT_ID_LIFECYCLE, dom: null });
    const reboot = await c.call('ConnectDomainEventCallbackRegisterAny', { eventID: EVENT_ID_REBOOT, dom: null });
    this.disposables.push(
      c.onEvent('DomainEventCallbackLifecycle', (m) => {
        if (m.callbackID !== lifecycle.callbackID) return;
        const change = this.lifecycleChange(m.msg.dom, m.msg.event, m.msg.detail);
        if (change) this.sinks.domainChanged(change);
      }),
      c.onEvent('DomainEventCallbackReboot', (m) => {
        if (m.callbackID !== reboot.callbackID) return;
        this.sinks.domainChanged({ kind: 'restarted', name: m.msg.dom.name, domid: m.msg.dom.id });
      }),
    );
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
  }

  private lifecycleChange(dom: RemoteNonnullDomain, event: number, detail: number): DomainChange | null {
    const base = { name: dom.name, domid: dom.id >= 0 ? dom.id : undefined };
    switch (event) {
      case Ev.DEFINED:
        return { kind: 'defined', ...base };
      case Ev.UNDEFINED:
        return { kind: 'undefined', ...base };
      case Ev.STARTED:
        return { kind: 'started', ...base };
      case Ev.SUSPENDED:
      case Ev.PMSUSPENDED:
        return { kind: 'paused', ...base };
      case Ev.RESUMED:
        return { kind: 'unpaused', ...base };
      case Ev.STOPPED:
        this.last.delete(dom.name);
        return { kind: detail === 0 ? 'shutdown' : 'destroyed', ...base, detail: STOPPED_DETAIL[detail] };
      case Ev.CRASHED:
        return { kind: 'destroyed', ...base, detail: 'crashed' };
      default:
        return null; // SHUTDOWN (the guest began powering off): STOPPED follows.
    }
  }

  private async lookup(ref: string | number): Promise<RemoteNonnullDomain> {
    try {
      if (typeof ref === 'number') return (await this.conn.client.call('DomainLookupById', { id: ref })).dom;
      return (await this.conn.client.call('DomainLookupByName', { name: ref })).dom;
    } catch (err) {
      throw named(err);
    }
  }

  /** Every domain with state, memory and vCPUs, from one GetAllDomainStats call. */
  async list(): Promise<DomainRow[]> {
    const { retStats } = await this.conn.client.call('ConnectGetAllDomainStats', { doms: [], stats: Stats.STATE | Stats.CPU_TOTAL | Stats.BALLOON | Stats.VCPU, flags: 0 });
    const rows: DomainRow[] = retStats.map((r) => {
      const p = params(r.params);
      const state = Number(p.get('state.state') ?? State.SHUTOFF);
      const maxKiB = Number(p.get('balloon.maximum') ?? 0);
      const curKiB = Number(p.get('balloon.current') ?? maxKiB);
      return {
        name: r.dom.name,
        domid: r.dom.id >= 0 ? r.dom.id : undefined,
        uuid: uuidString(r.dom.uuid),
        status: statusOf(state),
        state: lettersOf(state),
        memory: Math.round(curKiB / 1024),
        maxmem: Math.round(maxKiB / 1024),
        vcpus: Number(p.get('vcpu.current') ?? p.get('vcpu.maximum') ?? 1),
        cpuTime: Number(p.get('cpu.time') ?? 0) / 1e9,
      };
    });
    // Domains GetAllDomainStats skipped (older daemons leave out some inactive ones) still show.
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.conn.client.closed || this.sinks.wantsStats?.() === false) return;
    this.ticking = true;
    try {
      const now = Date.now();
      const { retStats } = await this.conn.client.call('ConnectGetAllDomainStats', { doms: [], stats: Stats.STATE | Stats.CPU_TOTAL | Stats.BALLOON | Stats.VCPU, flags: STATS_ACTIVE });
      const domains: DomainTick[] = [];
      let hostPct = 0;
      for (const r of retStats) {
        const p = params(r.params);
        const cpuNs = Number(p.get('cpu.time') ?? 0);
        const vcpus = Number(p.get('vcpu.current') ?? 1) || 1;
        const prev = this.last.get(r.dom.name);
        this.last.set(r.dom.name, { time: now, cpuNs });
        const dt = prev ? (now - prev.time) * 1e6 : 0;
        const used = prev && dt > 0 ? Math.max(0, cpuNs - prev.cpuNs) / dt : 0;
        const cpu = Math.min(100, (used * 100) / vcpus);
        hostPct += (used * 100) / this.hostCpus;
        const vcpuCpu: number[] = [];
        for (let i = 0; i < vcpus; i++) vcpuCpu.push(cpu);
        const maxKiB = Number(p.get('balloon.maximum') ?? 0);
        const curKiB = Number(p.get('balloon.current') ?? maxKiB);
        const tick: DomainTick = {
          time: now / 1000,
          domid: r.dom.id,
          name: r.dom.name,
          status: statusOf(Number(p.get('state.state') ?? State.RUNNING)),
          vcpus,
          memory: Math.round(curKiB / 1024),
          maxmem: Math.round(maxKiB / 1024),
          nets: 0,
          vbds: 0,
          cpu,
          hostCpu: (used * 100) / this.hostCpus,
          cpuTime: cpuNs / 1e9,
          steal: 0,
          vcpuCpu,
          memActual: curKiB ? curKiB / 1024 : null,
          memUsed: null,
          diskRd: null, diskWr: null, diskRdOps: null, diskWrOps: null, diskRdTotal: null, diskWrTotal: null, diskRdOpsTotal: null, diskWrOpsTotal: null,
          netRx: null, netTx: null, netRxTotal: null, netTxTotal: null,
        };
        domains.push(tick);
        this.remember(tick);
      }
      const t: Tick = {
        time: now / 1000,
        interval: this.intervalMs / 1000,
        // The host line shows what its guests use: the daemon does not report the host's own load
        // in the same call, and a second call per tick would double libvirtd's work.
        host: { time: now / 1000, cpu: Math.min(100, hostPct), cpuTime: 0, memTotal: this.hostMemMiB, memUsed: domains.reduce((s, d) => s + d.memory, 0), load: [0, 0, 0] },
        domains,
      };
      this.sinks.statsSample(t);
    } catch {
      // The connection dropped: its owner reconnects and starts a new adapter.
    } finally {
      this.ticking = false;
    }
  }

  private remember(tick: DomainTick): void {
    let h = this.history.get(tick.name);
    if (!h) this.history.set(tick.name, (h = { domid: tick.domid, points: [] }));
    h.domid = tick.domid;
    h.points.push(tick);
    // One hour at the tick interval.
    const keep = Math.ceil(3_600_000 / this.intervalMs);
    if (h.points.length > keep) h.points.splice(0, h.points.length - keep);
  }

  private async xml(name: string, inactive = false): Promise<string> {
    const dom = await this.lookup(name);
    return (await this.conn.client.call('DomainGetXmlDesc', { dom, flags: inactive ? 2 : 0 })).xml;
  }

  /** The protocol handlers for libvirtDomainMethods. */
  handlers(): Handlers<LibvirtDomainMethods> {
    const c = this.conn.client;
    const wrap =
      <M extends keyof LibvirtDomainMethods>(fn: (p: HandlerParamsOf<LibvirtDomainMethods, M>) => Promise<HandlerResultOf<LibvirtDomainMethods, M>>) =>
      async (p: HandlerParamsOf<LibvirtDomainMethods, M>) => {
        try {
          return await fn(p);
        } catch (err) {
          throw named(err);
        }
      };
    return {
      'connection.info': wrap<'connection.info'>(async () => ({
        kind: 'libvirt' as const,
        uri: this.conn.uri.uri,
        hostname: this.hostname,
        methods: Object.keys(libvirtDomainMethods),
        consoles: ['serial', 'vnc'] as ('serial' | 'vnc')[],
      })),
      'domain.list': wrap<'domain.list'>(() => this.list()),
      'domain.xml': wrap<'domain.xml'>(async (p) => ({ xml: await this.xml(p.name, p.inactive) })),
      'domain.start': wrap<'domain.start'>(async (p) => {
        const dom = await this.lookup(p.name);
        const { dom: started } = await c.call('DomainCreateWithFlags', { dom, flags: p.paused ? 1 : 0 });
        return { name: started.name, domid: started.id };
      }),
      'domain.destroy': wrap<'domain.destroy'>(async (p) => {
        await c.call('DomainDestroy', { dom: await this.lookup(p.ref) });
        return null;
      }),
      'domain.shutdown': wrap<'domain.shutdown'>(async (p) => {
        const dom = await this.lookup(p.ref);
        if (p.reboot) {
          await c.call('DomainReboot', { dom, flags: 0 });
          return null;
        }
        const stopped = p.wait ? this.waitStopped(dom.name, p.timeoutMs ?? 120_000) : null;
        await c.call('DomainShutdown', { dom });
        await stopped;
        return null;
      }),
      'domain.reset': wrap<'domain.reset'>(async (p) => {
        await c.call('DomainReset', { dom: await this.lookup(p.ref), flags: 0 });
        return null;
      }),
      'domain.pause': wrap<'domain.pause'>(async (p) => {
        await c.call('DomainSuspend', { dom: await this.lookup(p.ref) });
        return null;
      }),
      'domain.unpause': wrap<'domain.unpause'>(async (p) => {
        await c.call('DomainResume', { dom: await this.lookup(p.ref) });
        return null;
      }),
      'domain.undefine': wrap<'domain.undefine'>(async (p) => {
        const dom = await this.lookup(p.name);
        if ((await c.call('DomainIsActive', { dom })).active) throw new RpcError('InvalidState', `${p.name} is running: shut it down before removing its definition`);
        await c.call('DomainUndefineFlags', { dom, flags: UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA | UNDEFINE_NVRAM });
        return null;
      }),
      'domain.delete': wrap<'domain.delete'>(async (p) => {
        const dom = await this.lookup(p.name);
        const files = diskFilesOf(await this.xml(p.name, true));
        const unknown = p.storage.filter((s) => !files.includes(s));
        if (unknown.length) throw new RpcError('InvalidPath', `${unknown.join(', ')} ${unknown.length > 1 ? 'are not disks' : 'is not a disk'} of ${p.name}: nothing was deleted`);
        // Every chosen disk must be a volume libvirt manages (files are removed on the domain's
        // host, through its storage API): checked before anything is done.
        const vols = [];
        for (const path of p.storage) {
          try {
            vols.push({ path, vol: (await c.call('StorageVolLookupByPath', { path })).vol });
          } catch (err) {
            throw new RpcError('InvalidPath', `${path} is not in any of the host's libvirt storage pools, so Dom0 cannot delete it there: untick it (and remove it on the host), or add its folder as a pool. Nothing was deleted.`, { cause: (err as Error).message });
          }
        }
        if ((await c.call('DomainIsActive', { dom })).active) {
          if (!p.force) throw new RpcError('InvalidState', `${p.name} is running: force it off first (or shut it down)`);
          await c.call('DomainDestroy', { dom });
        }
        const deleted: string[] = [];
        for (const { path, vol } of vols) {
          await c.call('StorageVolDelete', { vol, flags: 0 });
          deleted.push(path);
        }
        await c.call('DomainUndefineFlags', { dom, flags: UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA | UNDEFINE_NVRAM });
        return { deleted };
      }),
      'snapshot.list': wrap<'snapshot.list'>(async (p) => {
        const dom = await this.lookup(p.domain);
        const { snapshots } = await c.call('DomainListAllSnapshots', { dom, need_results: 1, flags: 0 });
        const rows = await Promise.all(snapshots.map((snap) => this.snapshotRow(snap)));
        return takenOrder(rows);
      }),
      'snapshot.create': wrap<'snapshot.create'>(async (p) => {
        const dom = await this.lookup(p.domain);
        const xml = `<domainsnapshot><name>${xmlEscape(p.name)}</name><description>${xmlEscape(p.description)}</description></domainsnapshot>`;
        const { snap } = await c.call('DomainSnapshotCreateXml', { dom, xml_desc: xml, flags: 0 });
        return this.snapshotRow(snap);
      }),
      'snapshot.revert': wrap<'snapshot.revert'>(async (p) => {
        const dom = await this.lookup(p.domain);
        const { snap } = await c.call('DomainSnapshotLookupByName', { dom, name: p.name, flags: 0 });
        await c.call('DomainRevertToSnapshot', { snap, flags: 0 });
        return this.snapshotRow(snap);
      }),
      'snapshot.delete': wrap<'snapshot.delete'>(async (p) => {
        const dom = await this.lookup(p.domain);
        const { snap } = await c.call('DomainSnapshotLookupByName', { dom, name: p.name, flags: 0 });
        await c.call('DomainSnapshotDelete', { snap, flags: 0 });
        return null;
      }),
      'stats.settings': wrap<'stats.settings'>(async () => ({ interval: this.intervalMs / 1000, memory: true, disk: false, network: false })),
      'stats.history': wrap<'stats.history'>(async (p) => {
        const since = Date.now() / 1000 - p.seconds;
        const names = p.domains ?? [...this.history.keys()];
        return {
          interval: this.intervalMs / 1000,
          host: [],
          domains: names
            .filter((n) => this.history.has(n))
            .map((n) => {
              const h = this.history.get(n)!;
              return { name: n, domid: h.domid, points: h.points.filter((pt) => pt.time >= since) };
            }),
        };
      }),
    };
  }

  private async snapshotRow(snap: { name: string; dom: RemoteNonnullDomain }) {
    const c = this.conn.client;
    const facts = snapshotFactsOf((await c.call('DomainSnapshotGetXmlDesc', { snap, flags: 0 })).xml);
    const { current } = await c.call('DomainSnapshotIsCurrent', { snap, flags: 0 });
    return {
      name: facts.name || snap.name,
      description: facts.description,
      createdAt: facts.createdAt,
      state: facts.state,
      parent: facts.parent,
      current: current !== 0,
      // libvirt does not report the saved memory's size; 0 means "not known" for a memory snapshot.
      vmStateSize: 0,
    };
  }

  private waitStopped(name: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        d.dispose();
        reject(new RpcError('ShutdownTimeout', `${name} did not power off within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const d = this.conn.client.onEvent('DomainEventCallbackLifecycle', (m) => {
        if (m.msg.dom.name === name && m.msg.event === Ev.STOPPED) {
          clearTimeout(timer);
          d.dispose();
          resolve();
        }
      });
    });
  }

  /** The serial console: libvirt's console stream (taking it over from another viewer, as virt-manager does). */
  async openSerial(ref: string | number): Promise<Duplex> {
    const dom = await this.lookup(ref);
    try {
      return await this.conn.client.openStream('DomainOpenConsole', { dom, dev_name: null, flags: CONSOLE_FORCE });
    } catch (err) {
      throw named(err);
    }
  }

  /** The graphical console: the guest's VNC server, reached on its host. */
  async openVnc(ref: string | number): Promise<Duplex> {
    const dom = await this.lookup(ref);
    const xml = (await this.conn.client.call('DomainGetXmlDesc', { dom, flags: 0 })).xml;
    const vnc = vncListenerOf(xml);
    if (!vnc) throw new RpcError('NoDisplay', `${dom.name} has no VNC display${dom.id < 0 ? ' (it is not running)' : ''}`);
    if (this.conn.ssh) return vnc.socket ? sshOpenUnix(this.conn.ssh, vnc.socket) : sshOpenTcp(this.conn.ssh, vnc.host!, vnc.port!);
    return await new Promise((resolve, reject) => {
      const s = vnc.socket ? netConnect(vnc.socket) : netConnect(vnc.port!, vnc.host!);
      s.once('connect', () => resolve(s));
      s.once('error', (err) => reject(new RpcError('NoDisplay', `cannot reach ${dom.name}'s VNC server: ${err.message}`)));
    });
  }
}
