// What the storage and network handlers share: finding the config a device change applies to
// (the running one, else the definition) and saving the change to the definition file, validated
// exactly as a hand-written file would be.

import { loadDomainConfigText, serializeDomainConfig, type DomainConfig } from '../config/index.js';
import { DomainError, type DomainDefinitions, type DomainManager } from '../domains/index.js';

/** A running domain's id (when it runs) and the config it runs with, else its definition's. */
export async function deviceConfigOf(
  manager: DomainManager,
  definitions: DomainDefinitions,
  ref: string | number,
): Promise<{ name: string; config: DomainConfig; running?: number }> {
  const info = manager.lookup(ref);
  if (info) return { name: info.name, config: manager.configOf(info.domid), running: info.domid };
  const def = typeof ref === 'string' ? await definitions.get(ref) : undefined;
  if (!def) throw new DomainError('NoSuchDomain', `Domain '${ref}' does not exist.`);
  return { name: def.name, config: def.config };
}

/**
 * Apply a device change to the domain's definition. `required`: the domain is not running, so the
 * definition is the only place the change lives (and a missing one is an error).
 */
export async function saveDefinitionChange(
  definitions: DomainDefinitions,
  notify: (name: string) => void,
  name: string,
  change: (c: DomainConfig) => DomainConfig,
  required: boolean,
): Promise<void> {
  const def = await definitions.get(name);
  if (!def) {
    if (required) throw new DomainError('NoSuchDomain', `Domain '${name}' does not exist.`);
    return;
  }
  const { config } = coded(() => loadDomainConfigText(serializeDomainConfig(change(def.config)), def.path));
  await definitions.define(config);
  notify(name);
}

/** Errors of other rooms carry their kind in `name`; the protocol wants it in `code`. */
export function coded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Error && !(err as { code?: unknown }).code) Object.assign(err, { code: err.name });
    throw err;
  }
}
