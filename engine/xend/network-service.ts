// Handlers of engine/protocol/common/xend-api-network.ts: networks (engine/network) and NICs of
// domains (hotplug in engine/domains/hotplug.ts, plus the domain's definition file).

import { parseVifSpec } from '../config/index.js';
import { DomainError, nicAttach, nicDetach, type DomainDefinitions, type DomainManager } from '../domains/index.js';
import { Networks, type HostNet } from '../network/index.js';
import { coded, deviceConfigOf, saveDefinitionChange } from './device-config.js';
import type { Handlers } from '../protocol/common/define.js';
import type { networkMethods } from '../protocol/common/xend-api-network.js';
import { tapName } from '../qemu/index.js';

export interface NetworkServiceOptions extends HostNet {
  manager: DomainManager;
  definitions: DomainDefinitions;
  configDir: string;
  log?: (message: string) => void;
  broadcast: {
    changed(name: string): void;
    definition(name: string): void;
  };
}

export class NetworkService {
  readonly networks: Networks;
  readonly #o: NetworkServiceOptions;

  constructor(opts: NetworkServiceOptions) {
    this.#o = opts;
    this.networks = new Networks({ configDir: opts.configDir, sysClassNet: opts.sysClassNet, log: opts.log, onChange: (n) => opts.broadcast.changed(n) });
  }

  handlers(): Handlers<typeof networkMethods> {
    const { manager } = this.#o;
    return {
      'network.list': () => this.networks.list(),
      'network.define': (p) => this.networks.define(p),
      'network.undefine': async ({ name }) => {
        await this.networks.undefine(name);
        return null;
      },
      'domain.nicList': async ({ ref }) => {
        const { config, running, name } = await deviceConfigOf(manager, this.#o.definitions, ref);
        const macs = running !== undefined ? manager.info(running).macs : [];
        return config.vif.map((v, idx) => ({
          idx,
          mac: macs[idx] ?? v.mac ?? '',
          model: v.model ?? 'virtio',
          network: v.bridge ?? 'nat',
          hostfwd: v.hostfwd,
          tap: v.bridge ? (v.vifname ?? tapName(name, idx)) : undefined,
          state: running !== undefined ? 4 : 1,
        }));
      },
      'domain.nicAttach': async ({ ref, spec }) => {
        const vif = coded(() => parseVifSpec(spec));
        const { running, name } = await deviceConfigOf(manager, this.#o.definitions, ref);
        const inUse = () => new Set(manager.list().flatMap((d) => d.macs));
        if (running !== undefined) {
          const recorded = await nicAttach(manager, running, vif, { sysClassNet: this.#o.sysClassNet, macsInUse: inUse });
          await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name, (c) => ({ ...c, vif: [...c.vif, recorded] }), false);
          return { live: true, mac: recorded.mac };
        }
        // A halted domain keeps `mac=` unset unless given: its MAC is chosen (unique) when it starts.
        await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name, (c) => ({ ...c, vif: [...c.vif, vif] }), true);
        return { live: false, mac: vif.mac };
      },
      'domain.nicDetach': async ({ ref, dev }) => {
        const { running, name, config } = await deviceConfigOf(manager, this.#o.definitions, ref);
        if (running !== undefined) {
          const macs = manager.info(running).macs;
          const index = /^\d+$/.test(dev) ? Number(dev) : macs.indexOf(dev.toLowerCase());
          const removed = await nicDetach(manager, running, dev);
          // The definition's vif of the same position (same MAC when it names one) goes too.
          await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name, (c) => ({ ...c, vif: c.vif.filter((v, i) => (removed.mac ? v.mac !== removed.mac : i !== index)) }), false);
          return { live: true, mac: macs[index] };
        }
        const index = /^\d+$/.test(dev) ? Number(dev) : config.vif.findIndex((v) => v.mac === dev.toLowerCase());
        if (index < 0 || index >= config.vif.length) throw new DomainError('InvalidState', `domain '${name}' has no NIC ${dev} (see network-list)`);
        await saveDefinitionChange(this.#o.definitions, this.#o.broadcast.definition, name, (c) => ({ ...c, vif: c.vif.filter((_, i) => i !== index) }), true);
        return { live: false, mac: config.vif[index]?.mac };
      },
    };
  }


}

