// The xend daemon: owns every domain of one state dir. Start-up order matters for reliability:
// take the lock (one xend per state dir), re-adopt the domains whose QEMU still runs, then open the
// protocol socket, so no client ever sees a half-initialised engine. A graceful stop closes the
// socket and lets go of the domains without touching them: they keep running.

import { EventEmitter } from 'node:events';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dom0Paths } from '../common/paths.js';
import { ensurePrivateDir } from '../common/private-dir.js';
import { DomainDefinitions, DomainManager } from '../domains/index.js';
import { chooseAccelerator, findQemuSystem } from '../qemu/index.js';
import { ProtocolServer } from '../protocol/node/server.js';
import { listenUnix, type UnixListener } from '../protocol/node/unix-server.js';
import { xendEvents, xendMethods, xendStreams } from '../protocol/common/xend-api.js';
import { StatsCollector } from '../stats/index.js';
import { statsHandlers } from './stats-service.js';
import { acquirePidLock, type PidLock } from './lock.js';
import { fileLogger, type Logger } from './log.js';
import { XendService } from './service.js';
import { installHandlers } from './install-service.js';
import { ClientPaths } from './client-paths.js';
import { StorageService } from './storage-service.js';
import { NetworkService } from './network-service.js';
import { findQemuImg } from '../qemu/index.js';
import { loadOrCreateWebToken, startWebMode, type WebMode } from './web.js';
import { loadSettings } from './settings.js';
import { startRelocation } from './relocation.js';
import { hostInfo } from './host.js';
import { connectOrStartXenstored, XenstoreSync } from './xenstore-sync.js';
import { xendSocketPath } from './socket-path.js';
import type { XenstoreClient } from '../xenstore/index.js';
import { LibvirtConnections } from '../libvirt/index.js';

export const ENGINE_VERSION = '0.1.0';

export interface XendHandle {
  readonly socketPath: string;
  readonly logPath: string;
  readonly manager: DomainManager;
  /** Web mode's URL with its token, when web mode is on. */
  readonly webUrl?: string;
  /** Stop serving; domains keep running. */
  stop(): Promise<void>;
}

export { xendSocketPath };

export interface StartXendOptions {
  paths: Dom0Paths;
  env?: NodeJS.ProcessEnv;
  echoLog?: boolean;
  /** `host:port` for web mode; overrides (web-listen ...) in xend.conf. */
  web?: string;
  /** Where the built renderer is (default: out/renderer next to the engine). */
  rendererDir?: string;
  /** Extra page origins allowed to open the engine WebSocket (the desktop app's `file://`). */
  webOrigins?: string[];
}

export async function startXend(opts: StartXendOptions): Promise<XendHandle> {
  const { paths } = opts;
  const env = opts.env ?? process.env;
  for (const dir of [paths.configDir, paths.dataDir, paths.logDir]) privateStateDir(dir);
  ensurePrivateDir(paths.runtimeDir);
  const lock: PidLock = acquirePidLock(join(paths.runtimeDir, 'xend.pid'), 'xend');
  const logPath = join(paths.logDir, 'xend.log');
  const logger: Logger = fileLogger(logPath, { echo: opts.echoLog });
  let listener: UnixListener | undefined;
  let web: WebMode | undefined;
  let xenstore: XenstoreClient | undefined;
  let stats: StatsCollector | undefined;
  let connections: LibvirtConnections | undefined;
  try {
    const { settings, warnings } = loadSettings(join(paths.configDir, 'xend.conf'));
    for (const w of warnings) logger.log('WARNING', 'settings', w);
    const qemuBinary = findQemuSystem(env);
    const accel = await chooseAccelerator({ qemu: qemuBinary, setting: settings.accel, env });
    logger.log('INFO', 'xend', `starting xend ${ENGINE_VERSION} (pid ${process.pid}); QEMU ${qemuBinary}; accelerator ${accel.accel} (${accel.reason})`);
    const manager = new DomainManager({
      paths,
      qemuBinary,
      accel: accel.accel,
      log: (level, message) => logger.log(level === 'warn' ? 'WARNING' : level === 'error' ? 'ERROR' : 'INFO', 'domains', message),
    });
    const { adopted, cleaned } = await manager.adoptAll();
    logger.log('INFO', 'xend', `re-adopted ${adopted.length} running domain(s)${cleaned.length ? `; cleaned up ${cleaned.join(', ')}` : ''}`);
    xenstore = await connectOrStartXenstored(paths, (m) => logger.log('INFO', 'xenstore', m));
    const host = await hostInfo({ qemuBinary, accel: accel.accel, accelReason: accel.reason, engineVersion: ENGINE_VERSION });
    await new XenstoreSync(xenstore, manager, (m) => logger.log('WARNING', 'xenstore', m)).start({ totalMemoryMiB: host.total_memory, vcpus: host.nr_cpus });
    // The service is made before the server it notifies through: changes go via an emitter.
    const definitionChanges = new EventEmitter<{ change: [{ kind: 'defined' | 'undefined'; name: string }] }>();
    const definitions = new DomainDefinitions(paths.domainConfigDir, { macsInUse: () => manager.list().flatMap((d) => d.macs) });
    const identified = await definitions.fixIdentities();
    if (identified.length > 0) logger.log('INFO', 'xend', `gave ${identified.join(', ')} a fixed uuid and MACs`);
    // Pools are read when a remote client names a path (the storage service is made below).
    const clientPaths = new ClientPaths({ dataDir: paths.dataDir, browseFolders: settings.browseFolders, poolDirs: async () => (await storage.pools.listPools()).map((p) => p.path) });
    const service = new XendService({
      clientPaths,
      notify: (change) => definitionChanges.emit('change', change),
      manager,
      definitions,
      paths,
      logPath,
      qemuBinary,
      accel: accel.accel,
      accelReason: accel.reason,
      engineVersion: ENGINE_VERSION,
      relocationToken: settings.relocationToken,
    });
    // One stats tick for all domains; `stats.cpu` (CPU only) is kept for clients that only draw sparklines.
    stats = new StatsCollector({
      source: manager,
      settingsPath: join(paths.configDir, 'stats.json'),
      onTick: (tick) => {
        server.broadcast('stats.sample', tick);
        server.broadcast('stats.cpu', { time: tick.time, host: tick.host.cpu, domains: tick.domains.map((d) => ({ domid: d.domid, name: d.name, cpu: d.cpu })) });
      },
      onError: (err) => logger.log('WARNING', 'stats', `sampling failed: ${err.message}`),
    });
    // Storage and network handlers broadcast through the server made just below.
    let broadcast: ProtocolServer<typeof xendMethods, typeof xendEvents, typeof xendStreams>['broadcast'] = () => 0;
    const notifyDefined = (name: string) => definitionChanges.emit('change', { kind: 'defined', name });
    const storage = new StorageService({
      manager,
      definitions,
      paths,
      qemuImg: findQemuImg(env),
      broadcast: { changed: (pool) => broadcast('storage.changed', { pool }), progress: (p) => broadcast('storage.progress', p), definition: notifyDefined },
    });
    const network = new NetworkService({
      manager,
      definitions,
      configDir: paths.configDir,
      log: (m) => logger.log('INFO', 'network', m),
      broadcast: { changed: (name) => broadcast('network.changed', { name }), definition: notifyDefined },
    });
    await network.networks.activateAll();
    // libvirt hosts beside this engine (issue 14): each is served by its own adapter endpoint.
    const libvirt = new LibvirtConnections({
      configDir: paths.configDir,
      log: {
        info: (message) => logger.log('INFO', 'libvirt', message),
        warn: (message) => logger.log('WARNING', 'libvirt', message),
        error: (message, error) => logger.log('ERROR', 'libvirt', error instanceof Error ? `${message}: ${error.message}` : message),
      },
      changed: (row) => broadcast('connection.changed', row),
      statsIntervalMs: 1000,
    });
    connections = libvirt;
    const server = new ProtocolServer({
      methods: xendMethods,
      handlers: {
        ...service.handlers(),
        ...statsHandlers(stats),
        ...storage.handlers(),
        ...network.handlers(),
        ...libvirt.handlers(),
        ...installHandlers({ manager, definitions, paths, clientPaths, notify: (c) => definitionChanges.emit('change', c), log: (m) => logger.log('INFO', 'install', m) }),
      },
      events: xendEvents,
      streams: xendStreams,
      streamOpeners: service.streamOpeners(),
      log: {
        warn: (message) => logger.log('WARNING', 'protocol', message),
        error: (message, error) => logger.log('ERROR', 'protocol', error instanceof Error ? `${message}: ${error.stack ?? error.message}` : message),
      },
    });
    broadcast = (event, data) => server.broadcast(event, data);
    definitionChanges.on('change', (change) => server.broadcast('domain.changed', change));
    manager.onEvent((e) => {
      const detail = 'detail' in e ? e.detail : 'reason' in e ? `${e.reason}: ${e.action}` : 'why' in e ? e.why : 'previousName' in e ? `was ${e.previousName}` : 'path' in e ? e.path : undefined;
      server.broadcast('domain.changed', { kind: e.kind, name: e.name, domid: e.domid, detail });
    });
    stats.start();
    libvirt.start();
    const socketPath = xendSocketPath(paths);
    listener = await listenUnix(socketPath, server, { mode: socketMode(env) });
    logger.log('INFO', 'xend', `listening on ${socketPath}`);
    const webListen = opts.web ?? settings.webListen;
    if (webListen) {
      const token = loadOrCreateWebToken(join(paths.configDir, 'web-token'));
      web = await startWebMode({
        server,
        listen: webListen,
        token,
        allowRemote: settings.webAllowRemote,
        rendererDir: opts.rendererDir,
        allowedOrigins: opts.webOrigins,
        route: (id) => connections?.serverFor(id),
      });
      // The URL carries the token: logged without it.
      logger.log('INFO', 'xend', `web UI on ${web.url.replace(/#token=.*$/, '')}`);
    }
    const relocation = await startRelocation(settings, manager, paths.imagesDir, logger);
    // Autostart runs in the background: clients can connect and watch the domains come up.
    void service.autostart((m) => logger.log('INFO', 'xend', m));
    let stopped = false;
    return {
      socketPath,
      logPath,
      manager,
      webUrl: web?.url,
      async stop() {
        if (stopped) return;
        stopped = true;
        stats?.stop();
        await connections?.stop();
        await relocation?.close();
        await web?.close();
        await listener?.close();
        server.closeAll();
        await manager.detachAll();
        await xenstore?.close();
        logger.log('INFO', 'xend', 'stopped; domains left running');
        lock.release();
      },
    };
  } catch (err) {
    logger.log('ERROR', 'xend', `start failed: ${(err as Error).message}`);
    stats?.stop();
    await connections?.stop();
    await web?.close();
    await listener?.close();
    await xenstore?.close();
    lock.release();
    throw err;
  }
}

/**
 * DOM0_SOCKET_MODE=0660 opens xend's socket to its group: the system-wide xend (systemd unit,
 * Group=dom0) serves the members of the dom0 group. Anything else is refused, never widened.
 */
export function socketMode(env: NodeJS.ProcessEnv): 0o600 | 0o660 {
  const value = env.DOM0_SOCKET_MODE;
  if (value === undefined || value === '' || value === '0600') return 0o600;
  if (value === '0660') return 0o660;
  throw new Error(`DOM0_SOCKET_MODE=${value} is not valid: use 0600 (only this user) or 0660 (this user and the group)`);
}

/**
 * A state dir only its owner can enter. Older versions made them 0755 with 0644 files inside;
 * closing the dir closes every file in it, so existing installs are tightened here too.
 */
function privateStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (st.uid === process.getuid?.() && (st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
