// xend's API for CPU scheduling: Xen's credit scheduler, weight and cap per domain
// (xm sched-credit). Spread into xendMethods (xend-api.ts); handlers in engine/xend/sched-service.ts.
// Schemas only: the browser renderer imports this too.

import { z } from 'zod';
import { defineMethods } from './define.js';

const ref = z.union([z.string().min(1).max(128), z.number().int().nonnegative()]);

export const schedCreditRowSchema = z.object({
  name: z.string(),
  /** Absent for a defined domain that is not running. */
  domid: z.number().int().optional(),
  /** Relative CPU share, 1..65535; Xen's default 256. */
  weight: z.number().int(),
  /** % of one host CPU; 0 = no cap. */
  cap: z.number().int(),
});
export type SchedCreditRow = z.infer<typeof schedCreditRowSchema>;

export const schedMethods = defineMethods({
  'domain.schedCredit': {
    params: z.object({ ref: ref.optional() }),
    result: z.array(schedCreditRowSchema),
    doc: 'Credit scheduler weight and cap of one domain or all, Domain-0 and defined domains included (xm sched-credit).',
    errors: ['NoSuchDomain'],
  },
  'domain.schedCreditSet': {
    params: z.object({ ref, weight: z.number().int().optional(), cap: z.number().int().optional() }),
    result: z.object({ weight: z.number().int(), cap: z.number().int(), live: z.boolean() }),
    doc:
      "Set a domain's weight and/or cap (xm sched-credit -d D -w W -c C). A running domain's vCPU threads get it at once " +
      "through the cgroup cpu controller; a defined domain's config file keeps it for the next start.",
    errors: ['NoSuchDomain', 'PrivilegedDomain', 'InvalidState', 'InvalidSchedParam', 'SchedUnavailable'],
  },
});
export type SchedMethods = typeof schedMethods;
