// xend keeps xenstore's picture of the domains true, in Xen's layout:
//   /local/domain/<id>/{name,domid,vm,memory/target,cpu/<n>/availability,console/{tty,type},
//                       control/shutdown,device/{vbd,vif}/<devid>/...}
//   /local/domain/0/backend/{vbd,vif}/<id>/<devid>/...
//   /vm/<uuid>/{uuid,name,memory,maxmem,vcpus,start_time,on_*,xend/{restart_count,last_shutdown_reason}}
// and fires @introduceDomain / @releaseDomain. xenstored is its own process; xend starts it when
// none runs for this state dir, detached, so the registry outlives xend like the domains do.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dom0Paths } from '../common/paths.js';
import type { DiskSpec, DomainConfig } from '../config/index.js';
import type { DomainEvent, DomainInfo, DomainManager } from '../domains/index.js';
import { XenstoreClient, XenstoreConnectError, xenstoreLocations, type XenstoreOps } from '../xenstore/index.js';

/** Device states of Xen's split drivers; ours are connected the moment QEMU runs. */
const CONNECTED = '4';

export async function connectOrStartXenstored(paths: Dom0Paths, log: (message: string) => void): Promise<XenstoreClient> {
  const socket = xenstoreLocations(paths).socket;
  try {
    return await XenstoreClient.connect(socket);
  } catch (err) {
    if (!(err instanceof XenstoreConnectError)) throw err;
  }
  const child = spawn(process.execPath, [xenstoredEntry()], {
    detached: true,
    stdio: 'ignore',
    env: {
      ...process.env,
      DOM0_CONFIG_DIR: paths.configDir,
      DOM0_DATA_DIR: paths.dataDir,
      DOM0_RUNTIME_DIR: paths.runtimeDir,
      // Inside Electron (xend as a utility process) process.execPath is the app: make it plain Node.
      ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
    },
  });
  child.unref();
  log(`started xenstored (pid ${child.pid})`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await XenstoreClient.connect(socket);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`xenstored did not come up at ${socket}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The compiled xenstored entry point, also when xend itself runs from the TypeScript sources (tests). */
function xenstoredEntry(): string {
  const beside = fileURLToPath(new URL('../cli/xenstored.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = beside.replace(/\/engine\/cli\/xenstored\.js$/, '/out/engine/cli/xenstored.js');
  if (existsSync(built)) return built;
  throw new Error(`cannot find xenstored (${beside}); run npm run build:engine`);
}

/** Xen's device number for a vdev: xvdX 202, hdX 3/22 (two per major), sdX 8; 16 minors per disk. */
export function vbdDevid(vdev: string): number {
  const m = /^(xvd|hd|sd)([a-z]+)$/.exec(vdev);
  if (!m) return 0;
  let index = 0;
  for (const ch of m[2]!) index = index * 26 + (ch.charCodeAt(0) - 96);
  index -= 1;
  if (m[1] === 'xvd') return (202 << 8) | (index << 4);
  if (m[1] === 'sd') return (8 << 8) | (index << 4);
  const IDE_MAJORS = [3, 22, 33, 34, 56, 57, 88, 89, 90, 91];
  return ((IDE_MAJORS[Math.floor(index / 2)] ?? 3) << 8) | ((index % 2) * 64);
}

/** Every node of one running domain, as [path, value]. Pure, for tests. */
export function domainNodes(info: DomainInfo, config: DomainConfig): Array<[string, string]> {
  const dom = `/local/domain/${info.domid}`;
  const vm = `/vm/${info.uuid}`;
  const nodes: Array<[string, string]> = [
    [`${dom}/name`, info.name],
    [`${dom}/domid`, String(info.domid)],
    [`${dom}/vm`, vm],
    [`${dom}/memory/target`, String(info.memory * 1024)],
    [`${dom}/memory/static-max`, String(info.maxmem * 1024)],
    [`${dom}/console/tty`, `${info.runtimeDir}/serial.sock`],
    [`${dom}/console/type`, 'ioemu'],
    [`${dom}/control/shutdown`, ''],
    [`${vm}/uuid`, info.uuid],
    [`${vm}/name`, info.name],
    [`${vm}/memory`, String(info.memory)],
    [`${vm}/maxmem`, String(info.maxmem)],
    [`${vm}/vcpus`, String(info.vcpus)],
    [`${vm}/vcpu_avail`, String(2 ** info.vcpus - 1)],
    [`${vm}/start_time`, (info.startTime / 1000).toFixed(2)],
    [`${vm}/on_poweroff`, config.on_poweroff],
    [`${vm}/on_reboot`, config.on_reboot],
    [`${vm}/on_crash`, config.on_crash],
    [`${vm}/xend/restart_count`, String(info.restartCount)],
  ];
  for (let n = 0; n < info.vcpus; n++) nodes.push([`${dom}/cpu/${n}/availability`, 'online']);
  for (const disk of config.disk) nodes.push(...vbdNodes(info.domid, disk));
  config.vif.forEach((vif, n) => {
    const front = `${dom}/device/vif/${n}`;
    const back = `/local/domain/0/backend/vif/${info.domid}/${n}`;
    const mac = info.macs[n] ?? vif.mac ?? '';
    nodes.push(
      [`${front}/backend`, back],
      [`${front}/backend-id`, '0'],
      [`${front}/state`, CONNECTED],
      [`${front}/handle`, String(n)],
      [`${front}/mac`, mac],
      [`${back}/frontend`, front],
      [`${back}/frontend-id`, String(info.domid)],
      [`${back}/online`, '1'],
      [`${back}/state`, CONNECTED],
      [`${back}/handle`, String(n)],
      [`${back}/mac`, mac],
      [`${back}/type`, vif.bridge ? 'bridge' : 'user'],
    );
    if (vif.bridge) nodes.push([`${back}/bridge`, vif.bridge]);
  });
  return nodes;
}

function vbdNodes(domid: number, disk: DiskSpec): Array<[string, string]> {
  const devid = vbdDevid(disk.vdev);
  const front = `/local/domain/${domid}/device/vbd/${devid}`;
  const back = `/local/domain/0/backend/vbd/${domid}/${devid}`;
  return [
    [`${front}/backend`, back],
    [`${front}/backend-id`, '0'],
    [`${front}/state`, CONNECTED],
    [`${front}/virtual-device`, String(devid)],
    [`${front}/device-type`, disk.devtype],
    [`${back}/frontend`, front],
    [`${back}/frontend-id`, String(domid)],
    [`${back}/online`, '1'],
    [`${back}/state`, CONNECTED],
    [`${back}/params`, disk.target],
    [`${back}/mode`, disk.access === 'r' ? 'r' : 'w'],
    [`${back}/type`, disk.backend],
    [`${back}/dev`, disk.vdev],
    [`${back}/format`, disk.format],
  ];
}

export class XenstoreSync {
  readonly #xs: XenstoreClient;
  readonly #manager: DomainManager;
  readonly #log: (message: string) => void;
  /** uuid of each domid we wrote, to remove /vm/<uuid> after the domain is gone. */
  readonly #uuids = new Map<number, string>();
  #queue: Promise<void> = Promise.resolve();

  constructor(xs: XenstoreClient, manager: DomainManager, log: (message: string) => void) {
    this.#xs = xs;
    this.#manager = manager;
    this.#log = log;
  }

  /** Write Domain-0 and every running domain; drop what belongs to domains no longer running. */
  async start(host: { totalMemoryMiB: number; vcpus: number }): Promise<void> {
    await this.#xs.transaction(async (tx) => {
      await tx.write('/local/domain/0/name', 'Domain-0');
      await tx.write('/local/domain/0/domid', '0');
      await tx.write('/local/domain/0/memory/target', String(host.totalMemoryMiB * 1024));
      for (let n = 0; n < host.vcpus; n++) await tx.write(`/local/domain/0/cpu/${n}/availability`, 'online');
    });
    const running = this.#manager.list();
    const live = new Set(running.map((d) => String(d.domid)));
    for (const id of await this.#list('/local/domain')) {
      if (id !== '0' && !live.has(id)) await this.#removeDomain(Number(id), await this.#xs.tryRead(`/local/domain/${id}/vm`));
    }
    for (const d of running) await this.#writeDomain(d);
    this.#manager.onEvent((e) => this.#enqueue(e));
  }

  /** Events are applied in order, each as its own transaction. */
  #enqueue(event: DomainEvent): void {
    this.#queue = this.#queue
      .then(() => this.#apply(event))
      .catch((err: Error) => this.#log(`xenstore update for ${event.kind} of ${event.name} failed: ${err.message}`));
  }

  async #apply(e: DomainEvent): Promise<void> {
    switch (e.kind) {
      case 'started': {
        const info = this.#manager.lookup(e.domid);
        if (info) await this.#writeDomain(info);
        return;
      }
      case 'destroyed':
        await this.#removeDomain(e.domid, this.#uuids.has(e.domid) ? `/vm/${this.#uuids.get(e.domid)}` : undefined);
        return;
      case 'renamed': {
        const info = this.#manager.lookup(e.domid);
        if (!info) return;
        // rename-restart gives the old domain a new uuid too: rewrite it whole.
        await this.#writeDomain(info);
        return;
      }
      case 'shutdown': {
        const uuid = this.#uuids.get(e.domid);
        if (uuid) await this.#xs.write(`/vm/${uuid}/xend/last_shutdown_reason`, e.reason === 'crash' ? 'crash' : e.reason);
        return;
      }
      case 'memory': {
        const info = this.#manager.lookup(e.domid);
        if (!info) return;
        await this.#xs.write(`/local/domain/${e.domid}/memory/target`, String(info.memory * 1024));
        await this.#xs.write(`/vm/${info.uuid}/memory`, String(info.memory));
        return;
      }
      case 'vcpus': {
        const info = this.#manager.lookup(e.domid);
        if (!info) return;
        const max = this.#manager.configOf(e.domid).maxvcpus ?? e.vcpus;
        await this.#xs.transaction(async (tx) => {
          for (let n = 0; n < max; n++) await tx.write(`/local/domain/${e.domid}/cpu/${n}/availability`, n < e.vcpus ? 'online' : 'offline');
          await tx.write(`/vm/${info.uuid}/vcpu_avail`, String(2 ** e.vcpus - 1));
        });
        return;
      }
      case 'devices': {
        // Hotplug: the device nodes are rewritten whole, so a detached device's nodes go.
        const info = this.#manager.lookup(e.domid);
        if (!info) return;
        await this.#xs.transaction(async (tx) => {
          for (const path of [`/local/domain/${e.domid}/device`, `/local/domain/0/backend/vbd/${e.domid}`, `/local/domain/0/backend/vif/${e.domid}`]) {
            if (await tx.exists(path)) await tx.rm(path);
          }
        });
        await this.#writeDomain(info);
        return;
      }
      default:
        return;
    }
  }

  async #writeDomain(info: DomainInfo): Promise<void> {
    const config = this.#manager.configOf(info.domid);
    const previous = this.#uuids.get(info.domid);
    await this.#xs.transaction(async (tx: XenstoreOps) => {
      if (previous && previous !== info.uuid) await tx.rm(`/vm/${previous}`);
      for (const [path, value] of domainNodes(info, config)) await tx.write(path, value);
      // Dom0 owns everything; the guest may read its own subtree (Xen's "n0,r<id>").
      await tx.setPerms(`/local/domain/${info.domid}`, ['n0', `r${info.domid}`]);
      await tx.setPerms(`/vm/${info.uuid}`, ['n0', `r${info.domid}`]);
    });
    this.#uuids.set(info.domid, info.uuid);
    await this.#xs.introduceDomain(info.domid);
  }

  async #removeDomain(domid: number, vmPath: string | undefined): Promise<void> {
    await this.#xs.transaction(async (tx) => {
      // RM of a node whose parent is missing is ENOENT in xenstore: only remove what can exist.
      const rmUnder = async (parent: string, node: string) => {
        if (await tx.exists(parent)) await tx.rm(`${parent}/${node}`);
      };
      await rmUnder('/local/domain', String(domid));
      await rmUnder('/local/domain/0/backend/vbd', String(domid));
      await rmUnder('/local/domain/0/backend/vif', String(domid));
      // A restarted domain keeps its uuid: /vm/<uuid> is rewritten by its start, which comes after.
      if (vmPath?.startsWith('/vm/')) await rmUnder('/vm', vmPath.slice('/vm/'.length));
    });
    this.#uuids.delete(domid);
    await this.#xs.releaseDomain(domid);
  }

  async #list(path: string): Promise<string[]> {
    try {
      return await this.#xs.directory(path);
    } catch {
      return [];
    }
  }
}
