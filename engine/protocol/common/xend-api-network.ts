// xend's network API: networks (virt-manager's Networks tab, xm net-list / net-define) and NICs of
// domains (xm network-attach / network-detach / network-list). Schemas only: imported by the
// browser renderer too. Handlers: engine/xend/network-service.ts.

import { z } from 'zod';
import { defineEvents, defineMethods } from './define.js';

const ref = z.union([z.string().min(1).max(128), z.number().int().nonnegative()]);

export const networkSchema = z.object({
  name: z.string(),
  type: z.enum(['nat', 'bridge', 'isolated']),
  bridge: z.string().optional(),
  active: z.boolean(),
  ports: z.array(z.string()),
});
export type NetworkRow = z.infer<typeof networkSchema>;

export const nicRowSchema = z.object({
  /** Xen's devid: the vif's position. */
  idx: z.number().int(),
  mac: z.string(),
  model: z.string(),
  /** `nat` or the bridge's name. */
  network: z.string(),
  hostfwd: z.string().optional(),
  /** Host tap of a bridged NIC. */
  tap: z.string().optional(),
  state: z.number().int(),
});
export type NicRow = z.infer<typeof nicRowSchema>;

const deviceErrors = ['NoSuchDomain', 'InvalidState', 'SpecError', 'ConfigError'];

export const networkMethods = defineMethods({
  'network.list': {
    params: z.void(),
    result: z.array(networkSchema),
    doc: 'Networks: the built-in NAT one (default), bridged and isolated networks (xm net-list). Always allowed.',
  },
  'network.define': {
    params: z.object({ name: z.string().min(1).max(15), type: z.enum(['bridge', 'isolated']), bridge: z.string().min(1).max(15).optional() }),
    result: networkSchema,
    doc: 'Define a bridged network (an existing host bridge, created if missing and the engine may) or an isolated one (a new bridge with no uplink).',
    errors: ['NetworkExists', 'InvalidName', 'NotPermitted', 'IpFailed'],
  },
  'network.undefine': {
    params: z.object({ name: z.string().min(1).max(15) }),
    result: z.null(),
    doc: "Forget a network; an isolated network's bridge is deleted (refused while NICs are on it).",
    errors: ['NoSuchNetwork', 'NetworkExists', 'NotPermitted', 'IpFailed'],
  },
  'domain.nicList': {
    params: z.object({ ref }),
    result: z.array(nicRowSchema),
    doc: "A domain's NICs (xm network-list). Running or defined domains.",
    errors: ['NoSuchDomain'],
  },
  'domain.nicAttach': {
    params: z.object({
      ref,
      /** A vif line as in the config: `mac=00:16:3e:..,bridge=xenbr0,model=virtio`, `hostfwd=tcp:2222:22`, or '' for NAT with defaults. */
      spec: z.string().max(4096),
    }),
    result: z.object({ live: z.boolean(), mac: z.string().optional() }),
    doc: 'Add a NIC (xm network-attach): hot-added through QMP to a running domain, saved to its definition; a halted defined domain gets it at its next start.',
    errors: deviceErrors,
  },
  'domain.nicDetach': {
    params: z.object({ ref, dev: z.string().min(1).max(32) }),
    result: z.object({ live: z.boolean(), mac: z.string().optional() }),
    doc: 'Remove a NIC by devid or MAC (xm network-detach); the guest releases it first. Saved to the definition.',
    errors: deviceErrors,
  },
});

export const networkEvents = defineEvents({
  'network.changed': {
    data: z.object({ name: z.string() }),
    doc: 'A network was defined, removed or changed state; clients re-read network.list.',
  },
});
