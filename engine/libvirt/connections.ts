// The libvirt connections an engine keeps: saved in <config>/connections.json (atomically),
// connected at start when autoconnect is set, reconnected with backoff when the link drops, each
// served to clients by its own protocol server (the adapter) with xend's method names. Adding a
// connection connects first: a URI that fails is never saved.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { RpcError } from '../protocol/common/errors.js';
import type { Handlers } from '../protocol/common/define.js';
import { connectionMethods, libvirtDomainMethods, type ConnectionMethods, type ConnectionRow } from '../protocol/common/connections-api.js';
import { xendEvents, xendMethods, xendStreams } from '../protocol/common/xend-api.js';
import { ProtocolServer, type ProtocolLogger } from '../protocol/node/server.js';
import { LibvirtAdapter } from './adapter.js';
import { connectLibvirt, type LibvirtConnection, type LibvirtConnectOptions } from './connect.js';
import { LibvirtConnectError, type LibvirtConnectFailure } from './errors.js';
import { parseLibvirtUri } from './uri.js';

interface Saved {
  id: string;
  uri: string;
  autoconnect: boolean;
}

type AdapterServer = ProtocolServer<typeof libvirtDomainMethods, typeof xendEvents, typeof xendStreams>;

interface Entry extends Saved {
  state: ConnectionRow['state'];
  error?: string;
  fingerprint?: string;
  conn?: LibvirtConnection;
  adapter?: LibvirtAdapter;
  server: AdapterServer;
  retry?: NodeJS.Timeout;
  attempts: number;
  removed?: boolean;
}

const codeOf: Record<LibvirtConnectFailure, string> = {
  'unsupported-uri': 'UnsupportedUri',
  'invalid-uri': 'InvalidUri',
  unreachable: 'Unreachable',
  'host-key-unknown': 'HostKeyUnknown',
  'host-key-changed': 'HostKeyChanged',
  'auth-failed': 'AuthFailed',
  'passphrase-required': 'PassphraseRequired',
  'daemon-not-running': 'DaemonNotRunning',
  'permission-denied': 'PermissionDenied',
  'remote-command-failed': 'ConnectFailed',
  timeout: 'ConnectFailed',
  other: 'ConnectFailed',
};

/** A connect failure as the protocol's named error (data carries the kind and fingerprint). */
export function connectRpcError(err: unknown): RpcError {
  if (err instanceof LibvirtConnectError) return new RpcError(codeOf[err.kind], err.message, { uri: err.uri, kind: err.kind, fingerprint: err.fingerprint });
  return new RpcError('ConnectFailed', (err as Error).message);
}

/** "QEMU/KVM: root@server" or "QEMU/KVM" for the local system daemon, as virt-manager labels them. */
export function labelOf(uri: string): string {
  const u = parseLibvirtUri(uri);
  const where = u.transport === 'ssh' ? `${u.user ? `${u.user}@` : ''}${u.host}${u.port ? `:${u.port}` : ''}` : '';
  return `QEMU/KVM${u.mode === 'session' ? ' User session' : ''}${where ? `: ${where}` : ''}`;
}

export interface LibvirtConnectionsOptions {
  configDir: string;
  log: ProtocolLogger & { info(message: string): void };
  /** Tells the engine's clients (the `connection.changed` event). */
  changed(row: ConnectionRow & { removed?: boolean }): void;
  /** SSH and socket options for every connection (tests point known_hosts and keys elsewhere). */
  connectOptions?: LibvirtConnectOptions;
  statsIntervalMs?: number;
}

export class LibvirtConnections {
  private readonly entries = new Map<string, Entry>();
  private readonly file: string;

  constructor(private readonly opts: LibvirtConnectionsOptions) {
    this.file = join(opts.configDir, 'connections.json');
  }

  /** Loads the saved connections and connects the autoconnect ones in the background. */
  start(): void {
    let saved: Saved[] = [];
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { libvirt?: Saved[] };
      saved = (data.libvirt ?? []).filter((s) => typeof s.id === 'string' && typeof s.uri === 'string');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log.warn(`${this.file} is unreadable (${(err as Error).message}): no libvirt connections loaded`);
    }
    for (const s of saved) {
      const e = this.entry(s);
      if (s.autoconnect) void this.connect(e).catch(() => undefined);
      else e.state = 'disconnected';
    }
  }

  async stop(): Promise<void> {
    for (const e of this.entries.values()) {
      clearTimeout(e.retry);
      e.removed = true;
      await this.drop(e);
      e.server.closeAll();
    }
  }

  /** The protocol server of one connection's domains, for the listener's routing. */
  serverFor(id: string): AdapterServer | undefined {
    return this.entries.get(id)?.server;
  }

  private row(e: Entry): ConnectionRow {
    return { id: e.id, kind: 'libvirt', uri: e.uri, label: labelOf(e.uri), autoconnect: e.autoconnect, state: e.state, error: e.error, fingerprint: e.fingerprint };
  }

  private entry(s: Saved): Entry {
    const e: Entry = { ...s, state: 'connecting', attempts: 0, server: undefined as unknown as AdapterServer };
    e.server = new ProtocolServer({
      methods: libvirtDomainMethods,
      handlers: this.delegating(e),
      events: xendEvents,
      streams: xendStreams,
      streamOpeners: {
        'console.serial': async (p) => this.adapterOf(e).openSerial(p.ref),
        'console.vnc': async (p) => this.adapterOf(e).openVnc(p.ref),
      },
      log: this.opts.log,
    });
    this.entries.set(e.id, e);
    return e;
  }

  private adapterOf(e: Entry): LibvirtAdapter {
    if (!e.adapter || e.state !== 'connected') throw new RpcError('NotConnected', `${e.uri} is not connected${e.error ? `: ${e.error}` : ''}`);
    return e.adapter;
  }

  /** Handlers that reach the connection's current adapter (it is replaced on reconnect). */
  private delegating(e: Entry): Handlers<typeof libvirtDomainMethods> {
    const names = Object.keys(libvirtDomainMethods) as (keyof typeof libvirtDomainMethods)[];
    return Object.fromEntries(
      names.map((name) => [
        name,
        (params: unknown, ctx: unknown) => {
          const h = this.adapterOf(e).handlers()[name] as (p: unknown, c: unknown) => unknown;
          return h(params, ctx);
        },
      ]),
    ) as unknown as Handlers<typeof libvirtDomainMethods>;
  }

  private async save(): Promise<void> {
    const libvirt = [...this.entries.values()].filter((e) => !e.removed).map(({ id, uri, autoconnect }) => ({ id, uri, autoconnect }));
    await writeFileAtomic(this.file, `${JSON.stringify({ libvirt }, null, 2)}\n`, 0o600);
  }

  private setState(e: Entry, state: ConnectionRow['state'], error?: string, fingerprint?: string): void {
    e.state = state;
    e.error = error;
    e.fingerprint = fingerprint;
    this.opts.changed(this.row(e));
  }

  private async drop(e: Entry): Promise<void> {
    e.adapter?.stop();
    e.adapter = undefined;
    const conn = e.conn;
    e.conn = undefined;
    if (conn) await conn.close().catch(() => undefined);
  }

  private async connect(e: Entry, acceptHostKey?: string): Promise<void> {
    clearTimeout(e.retry);
    await this.drop(e);
    this.setState(e, 'connecting');
    let conn: LibvirtConnection;
    try {
      conn = await connectLibvirt(e.uri, { ...this.opts.connectOptions, acceptHostKey: acceptHostKey ?? this.opts.connectOptions?.acceptHostKey });
    } catch (err) {
      const ce = err instanceof LibvirtConnectError ? err : null;
      this.setState(e, 'failed', (err as Error).message, ce?.fingerprint);
      // A key to accept, a refused key or a bad URI needs the user; anything else may heal.
      if (!ce || !['host-key-unknown', 'host-key-changed', 'invalid-uri', 'unsupported-uri', 'passphrase-required', 'auth-failed'].includes(ce.kind)) this.scheduleRetry(e);
      throw err;
    }
    if (e.removed) {
      await conn.close();
      return;
    }
    const adapter = new LibvirtAdapter(conn, {
      wantsStats: () => e.server.connectionCount > 0,
      domainChanged: (c) => e.server.broadcast('domain.changed', c),
      statsSample: (t) => {
        e.server.broadcast('stats.sample', t);
        e.server.broadcast('stats.cpu', { time: t.time, host: t.host.cpu, domains: t.domains.map((d) => ({ domid: d.domid, name: d.name, cpu: d.cpu })) });
      },
    }, this.opts.statsIntervalMs);
    try {
      await adapter.start();
    } catch (err) {
      adapter.stop();
      await conn.close();
      this.setState(e, 'failed', `${e.uri}: ${(err as Error).message}`);
      this.scheduleRetry(e);
      throw err;
    }
    e.conn = conn;
    e.adapter = adapter;
    e.attempts = 0;
    conn.client.onClose((why) => {
      if (e.conn !== conn || e.removed) return;
      this.opts.log.warn(`libvirt connection ${e.uri} lost: ${why?.message ?? 'closed'}`);
      adapter.stop();
      e.adapter = undefined;
      e.conn = undefined;
      this.setState(e, 'disconnected', `${e.uri}: the connection was lost (${why?.message ?? 'closed'}); reconnecting`);
      // Clients re-read everything when their link comes back.
      e.server.closeAll();
      this.scheduleRetry(e);
    });
    this.setState(e, 'connected');
    // Clients linked while it was down re-read the domains now.
    e.server.closeAll();
    this.opts.log.info(`libvirt connection ${e.uri} up`);
  }

  private scheduleRetry(e: Entry): void {
    if (e.removed || !e.autoconnect) return;
    e.attempts++;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(e.attempts - 1, 5));
    e.retry = setTimeout(() => void this.connect(e).catch(() => undefined), delay);
    e.retry.unref();
  }

  handlers(): Handlers<ConnectionMethods> {
    return {
      'connection.info': () => ({ kind: 'dom0' as const, uri: 'dom0:///', hostname: hostname(), methods: Object.keys(xendMethods), consoles: ['serial', 'vnc'] as ('serial' | 'vnc')[] }),
      'connection.list': () => [...this.entries.values()].filter((e) => !e.removed).map((e) => this.row(e)),
      'connection.add': async (p) => {
        let uri: string;
        try {
          uri = parseLibvirtUri(p.uri).uri;
        } catch (err) {
          throw connectRpcError(err);
        }
        const existing = [...this.entries.values()].find((x) => x.uri === uri && !x.removed);
        if (existing) throw new RpcError('ConnectionExists', `${uri} is already in the connection list`);
        const e = this.entry({ id: `lv-${randomBytes(4).toString('hex')}`, uri, autoconnect: p.autoconnect });
        try {
          await this.connect(e, p.acceptHostKey);
        } catch (err) {
          // Nothing half-added: the entry goes, and nothing was saved.
          clearTimeout(e.retry);
          e.removed = true;
          this.entries.delete(e.id);
          throw connectRpcError(err);
        }
        await this.save();
        return this.row(e);
      },
      'connection.remove': async (p) => {
        const e = this.entries.get(p.id);
        if (!e || e.removed) throw new RpcError('NoSuchConnection', `no connection ${p.id}`);
        e.removed = true;
        clearTimeout(e.retry);
        await this.drop(e);
        e.server.closeAll();
        this.entries.delete(e.id);
        await this.save();
        this.opts.changed({ ...this.row(e), removed: true });
        return null;
      },
      'connection.connect': async (p) => {
        const e = this.entries.get(p.id);
        if (!e || e.removed) throw new RpcError('NoSuchConnection', `no connection ${p.id}`);
        try {
          await this.connect(e, p.acceptHostKey);
        } catch (err) {
          throw connectRpcError(err);
        }
        return this.row(e);
      },
    };
  }
}

export { connectionMethods };
