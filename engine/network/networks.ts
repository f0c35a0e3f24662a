// Networks a vif can join, as virt-manager lists them: `default` (user-mode NAT, always there, no
// privileges needed; port forwards per vif), bridged networks (a host bridge such as xenbr0 that
// may carry an uplink; attached to if it exists, created when the engine may) and isolated ones
// (a bridge the engine creates with no uplink: guests on it reach each other and nothing else).
// Definitions live in <config>/networks.json, written atomically. A vif joins a bridged or
// isolated network by naming its bridge (`bridge=xenbr0`), as in Xen.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { NetworkError } from './errors.js';
import { bridgeExists, bridgePorts, checkBridgeName, createBridge, deleteBridge, interfaceUp, type HostNet } from './ip.js';

export type NetworkType = 'nat' | 'bridge' | 'isolated';

export interface NetworkInfo {
  name: string;
  type: NetworkType;
  /** The host bridge; absent for user-mode NAT. */
  bridge?: string;
  /** The bridge exists and is up (NAT: always). */
  active: boolean;
  /** Interfaces on the bridge (domain taps, uplinks). */
  ports: string[];
}

interface NetworkRecord {
  name: string;
  type: 'bridge' | 'isolated';
  bridge: string;
}

export interface NetworksOptions extends HostNet {
  configDir: string;
  log?: (message: string) => void;
  onChange?: (name: string) => void;
}

export const NAT_NETWORK = 'default';

export class Networks {
  readonly #o: NetworksOptions;
  readonly #file: string;

  constructor(opts: NetworksOptions) {
    this.#o = opts;
    this.#file = join(opts.configDir, 'networks.json');
  }

  async list(): Promise<NetworkInfo[]> {
    const nat: NetworkInfo = { name: NAT_NETWORK, type: 'nat', active: true, ports: [] };
    return [nat, ...(await this.#records()).map((r) => this.#info(r))];
  }

  async get(name: string): Promise<NetworkInfo> {
    const n = (await this.list()).find((x) => x.name === name);
    if (!n) throw new NetworkError('NoSuchNetwork', `no network '${name}' (see net-list)`);
    return n;
  }

  /** Define a bridged or isolated network and bring it up (creating its bridge when allowed). */
  async define(opts: { name: string; type: 'bridge' | 'isolated'; bridge?: string }): Promise<NetworkInfo> {
    checkBridgeName(opts.name);
    const bridge = opts.bridge ?? opts.name;
    checkBridgeName(bridge);
    if (opts.name === NAT_NETWORK) throw new NetworkError('NetworkExists', `'${NAT_NETWORK}' is the built-in NAT network`);
    const records = await this.#records();
    for (const r of records) {
      if (r.name === opts.name) throw new NetworkError('NetworkExists', `network '${opts.name}' exists already`);
      if (r.bridge === bridge) throw new NetworkError('NetworkExists', `bridge ${bridge} is network '${r.name}' already`);
    }
    const record: NetworkRecord = { name: opts.name, type: opts.type, bridge };
    // An isolated network must be a bridge of ours: an existing host bridge may have an uplink.
    if (opts.type === 'isolated' && bridgeExists(bridge, this.#o)) {
      throw new NetworkError('NetworkExists', `bridge ${bridge} exists on the host already; an isolated network needs a new bridge name`);
    }
    await this.#activate(record);
    await this.#save([...records, record]);
    this.#o.onChange?.(opts.name);
    return this.#info(record);
  }

  /** Forget a network; an isolated network's bridge is deleted when no domain uses it. */
  async undefine(name: string): Promise<void> {
    const records = await this.#records();
    const record = records.find((r) => r.name === name);
    if (!record) throw new NetworkError('NoSuchNetwork', `no network '${name}'${name === NAT_NETWORK ? ' that can be removed: default is built in' : ''}`);
    const ports = bridgePorts(record.bridge, this.#o);
    if (record.type === 'isolated' && ports.length) {
      throw new NetworkError('NetworkExists', `network '${name}' is in use (${ports.join(', ')}); detach those domains' NICs first`);
    }
    if (record.type === 'isolated' && bridgeExists(record.bridge, this.#o)) await deleteBridge(record.bridge);
    await this.#save(records.filter((r) => r.name !== name));
    this.#o.onChange?.(name);
  }

  /** At engine start: bring every defined network up; problems are logged, not fatal. */
  async activateAll(): Promise<void> {
    for (const r of await this.#records()) {
      try {
        await this.#activate(r);
      } catch (err) {
        this.#o.log?.(`network ${r.name}: ${(err as Error).message}`);
      }
    }
  }

  async #activate(r: NetworkRecord): Promise<void> {
    if (bridgeExists(r.bridge, this.#o)) return;
    await createBridge(r.bridge);
    this.#o.log?.(`created bridge ${r.bridge} for ${r.type} network ${r.name}`);
  }

  #info(r: NetworkRecord): NetworkInfo {
    return { name: r.name, type: r.type, bridge: r.bridge, active: bridgeExists(r.bridge, this.#o) && interfaceUp(r.bridge, this.#o), ports: bridgePorts(r.bridge, this.#o) };
  }

  async #records(): Promise<NetworkRecord[]> {
    try {
      const parsed = JSON.parse(await readFile(this.#file, 'utf8')) as NetworkRecord[];
      return parsed.filter((r) => r && typeof r.name === 'string' && typeof r.bridge === 'string' && (r.type === 'bridge' || r.type === 'isolated'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new NetworkError('InvalidName', `${this.#file} is not readable JSON (${(err as Error).message}); fix or remove it`);
    }
  }

  async #save(records: NetworkRecord[]): Promise<void> {
    await mkdir(this.#o.configDir, { recursive: true });
    await writeFileAtomic(this.#file, JSON.stringify(records, null, 2) + '\n');
  }
}
