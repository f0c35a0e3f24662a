// Handlers of xend-api-sched.ts: Xen's credit scheduler on the domain manager (live) and the
// domain definitions (kept for the next start).

import { DomainError, type DomainDefinitions, type DomainManager } from '../domains/index.js';
import { checkCredit, creditOf, WEIGHT_DEFAULT } from '../sched/index.js';
import type { Handlers } from '../protocol/common/define.js';
import type { SchedCreditRow, SchedMethods } from '../protocol/common/xend-api-sched.js';

export interface SchedServiceOptions {
  manager: DomainManager;
  definitions: DomainDefinitions;
  notify?: (change: { kind: 'defined' | 'undefined'; name: string }) => void;
}

/** Domain-0 is the host: its processes sit at the cgroup root, whose share is the default weight, uncapped. */
const DOMAIN0: SchedCreditRow = { name: 'Domain-0', domid: 0, weight: WEIGHT_DEFAULT, cap: 0 };

export function schedHandlers(o: SchedServiceOptions): Handlers<SchedMethods> {
  const { manager, definitions } = o;
  return {
    'domain.schedCredit': async ({ ref }) => {
      const rows: SchedCreditRow[] = [DOMAIN0];
      const running = new Set<string>();
      for (const d of manager.list()) {
        running.add(d.name);
        rows.push({ name: d.name, domid: d.domid, ...manager.schedCredit(d.domid) });
      }
      for (const def of await definitions.list()) {
        if (!running.has(def.name)) rows.push({ name: def.name, ...creditOf(def.config) });
      }
      rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (ref === undefined) return rows;
      const match = rows.filter((r) => r.name === String(ref) || (r.domid !== undefined && String(r.domid) === String(ref)));
      if (match.length === 0) throw new DomainError('NoSuchDomain', `Domain '${ref}' does not exist.`);
      return match;
    },
    'domain.schedCreditSet': async ({ ref, weight, cap }) => {
      if (ref === 0 || ref === '0' || ref === 'Domain-0') {
        throw new DomainError('PrivilegedDomain', "Cannot set the scheduler of privileged domain 0: Domain-0 is the host, whose processes Dom0 does not schedule");
      }
      const change = { ...(weight !== undefined && { weight }), ...(cap !== undefined && { cap }) };
      const running = manager.lookup(ref);
      const def = await definitions.get(running?.name ?? String(ref));
      if (!running && !def) throw new DomainError('NoSuchDomain', `Domain '${ref}' does not exist.`);
      let result = running ? manager.schedCredit(running.domid) : creditOf(def!.config);
      result = { ...result, ...change };
      checkCredit(result, running?.vcpus ?? def!.config.vcpus);
      if (running) await manager.schedCreditSet(running.domid, change);
      if (def) {
        // Like xend's managed domains: the setting survives a restart of the domain.
        await definitions.define({ ...def.config, cpu_weight: result.weight, cpu_cap: result.cap });
        o.notify?.({ kind: 'defined', name: def.name });
      }
      return { ...result, live: running !== undefined };
    },
  };
}
