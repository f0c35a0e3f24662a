// xend's stats API: one sample of every running domain and of Domain-0 per tick (`stats.sample`,
// for clients subscribed to it), the history kept by the engine (`stats.history`: a client
// subscribes, then asks for the span it shows and merges by time), and the sampling settings.
// Schemas only: imported by the browser renderer too.

import { z } from 'zod';
import { defineEvents, defineMethods } from './define.js';

const rate = z.number().nullable();

export const domainPointSchema = z.object({
  time: z.number(),
  /** Guest CPU %, of its vCPUs. */
  cpu: z.number(),
  /** Host CPU %, of all host CPUs. */
  hostCpu: z.number(),
  cpuTime: z.number(),
  /** % of its vCPUs' time spent ready to run but waiting for a host CPU. */
  steal: z.number(),
  vcpuCpu: z.array(z.number()),
  /** MiB; null = not measurable. */
  memActual: rate,
  memUsed: rate,
  /** Bytes (and requests) per second; totals since the domain started. */
  diskRd: rate,
  diskWr: rate,
  diskRdOps: rate,
  diskWrOps: rate,
  diskRdTotal: rate,
  diskWrTotal: rate,
  diskRdOpsTotal: rate,
  diskWrOpsTotal: rate,
  /** Guest-side bytes per second; null for user-mode NICs (not measurable). */
  netRx: rate,
  netTx: rate,
  netRxTotal: rate,
  netTxTotal: rate,
});
export type DomainPointData = z.infer<typeof domainPointSchema>;

export const hostPointSchema = z.object({
  time: z.number(),
  cpu: z.number(),
  cpuTime: z.number(),
  memTotal: z.number(),
  memUsed: z.number(),
  load: z.tuple([z.number(), z.number(), z.number()]),
});
export type HostPointData = z.infer<typeof hostPointSchema>;

export const domainTickSchema = domainPointSchema.extend({
  domid: z.number().int(),
  name: z.string(),
  status: z.string(),
  vcpus: z.number().int(),
  memory: z.number(),
  maxmem: z.number(),
  nets: z.number().int(),
  vbds: z.number().int(),
});
export type DomainTickData = z.infer<typeof domainTickSchema>;

export const statsSettingsSchema = z.object({
  /** Seconds between samples. */
  interval: z.number().min(0.5).max(60),
  memory: z.boolean(),
  disk: z.boolean(),
  network: z.boolean(),
});
export type StatsSettingsData = z.infer<typeof statsSettingsSchema>;

export const statsMethods = defineMethods({
  'stats.history': {
    params: z.object({
      /** Domain names; absent: every sampled domain. */
      domains: z.array(z.string().min(1).max(128)).max(1024).optional(),
      /** Seconds back from now. */
      seconds: z.number().int().positive().max(86_400).default(3600),
      /** Average consecutive points down to at most this many per series. */
      maxPoints: z.number().int().positive().max(100_000).optional(),
      host: z.boolean().default(true),
    }),
    result: z.object({
      interval: z.number(),
      host: z.array(hostPointSchema),
      domains: z.array(z.object({ name: z.string(), domid: z.number().int(), points: z.array(domainPointSchema) })),
    }),
    doc: 'The history the engine keeps (1 h as sampled, then 1-minute averages for a day); unknown names are left out. Always allowed.',
  },
  'stats.settings': {
    params: z.void(),
    result: statsSettingsSchema,
    doc: 'The sampling interval and which stats are collected. Always allowed.',
  },
  'stats.configure': {
    params: statsSettingsSchema.partial(),
    result: statsSettingsSchema,
    doc: 'Change the sampling interval (0.5-60 s) or which stats are collected; saved for the next start.',
  },
});

export const statsEvents = defineEvents({
  'stats.sample': {
    data: z.object({
      time: z.number(),
      interval: z.number(),
      host: hostPointSchema,
      domains: z.array(domainTickSchema),
    }),
    doc: 'One tick: Domain-0 and every running domain (CPU, memory, disk, network). Subscribe to it, then fetch stats.history.',
  },
});
