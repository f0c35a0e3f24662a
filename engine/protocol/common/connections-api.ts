// The methods a libvirt host serves through the adapter: xend's own (same names, same schemas),
// plus what only a connection endpoint answers. Schemas only: the renderer imports this file too.

import { z } from 'zod';
import { defineMethods } from './define.js';
import { xendMethods } from './xend-api.js';

export * from './xend-api-connections.js';

function pick<T extends Record<string, unknown>, K extends keyof T>(table: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, table[k]])) as Pick<T, K>;
}

/** xend's methods a libvirt host serves through the adapter, with xend's schemas unchanged. */
export const libvirtDomainMethods = defineMethods({
  ...pick(xendMethods, [
    'domain.list',
    'domain.start',
    'domain.destroy',
    'domain.shutdown',
    'domain.reset',
    'domain.pause',
    'domain.unpause',
    'domain.undefine',
    'domain.delete',
    'stats.history',
    'snapshot.list',
    'snapshot.create',
    'snapshot.revert',
    'snapshot.delete',
    'stats.settings',
    'connection.info',
  ] as const),
  'domain.xml': {
    params: z.object({ name: z.string().min(1).max(256), inactive: z.boolean().default(false) }),
    result: z.object({ xml: z.string() }),
    doc: "The domain's libvirt XML (live, or the persistent definition when inactive). Always allowed.",
    errors: ['NoSuchDomain'],
  },
});
export type LibvirtDomainMethods = typeof libvirtDomainMethods;
