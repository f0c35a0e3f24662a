// Connections beside the local engine: libvirt hosts that xend reaches (local socket or SSH) and
// serves to clients through an adapter. xend keeps the list (`connection.*` methods and the
// `connection.changed` event); each connection's domains are served on their own endpoint with
// the same method, event and stream names as xend's (the subset below), so a client treats a
// libvirt host like another engine and reads what it can do from `connection.info`.
// Schemas only: the renderer imports this file too.

import { z } from 'zod';
import { defineEvents, defineMethods } from './define.js';

export const connectionStateSchema = z.enum(['connecting', 'connected', 'disconnected', 'failed']);

export const connectionRowSchema = z.object({
  /** Stable id; also the `connection=` of the endpoint that serves its domains. */
  id: z.string(),
  kind: z.literal('libvirt'),
  uri: z.string(),
  /** A short name for the tree: e.g. `QEMU/KVM: root@server`. */
  label: z.string(),
  autoconnect: z.boolean(),
  state: connectionStateSchema,
  /** Why the last attempt failed or the link dropped, naming the URI and what to do. */
  error: z.string().optional(),
  /** For a host key that must be accepted: its SHA256 fingerprint. */
  fingerprint: z.string().optional(),
});
export type ConnectionRow = z.infer<typeof connectionRowSchema>;

/** What a connection's endpoint can do; the GUI enables actions by it. */
export const capabilitiesSchema = z.object({
  kind: z.enum(['dom0', 'libvirt']),
  uri: z.string(),
  hostname: z.string(),
  /** Every method name the endpoint serves. */
  methods: z.array(z.string()),
  consoles: z.array(z.enum(['serial', 'vnc'])),
});
export type Capabilities = z.infer<typeof capabilitiesSchema>;

const id = z.string().regex(/^[a-z0-9-]{1,64}$/);

export const connectionMethods = defineMethods({
  'connection.info': {
    params: z.void(),
    result: capabilitiesSchema,
    doc: 'What this endpoint is (the Dom0 engine or a libvirt host) and which methods it serves. Always allowed.',
  },
  'connection.list': {
    params: z.void(),
    result: z.array(connectionRowSchema),
    doc: 'The libvirt connections this engine keeps, with their state. Always allowed.',
  },
  'connection.add': {
    params: z.object({
      uri: z.string().min(1).max(2048),
      autoconnect: z.boolean().default(true),
      /** The host-key fingerprint the user accepted after a HostKeyUnknown refusal. */
      acceptHostKey: z.string().max(128).optional(),
    }),
    result: connectionRowSchema,
    doc: 'Connect to a libvirt URI and keep it. Nothing is added when the first connection fails: the error names the URI and what to do.',
    errors: ['UnsupportedUri', 'InvalidUri', 'HostKeyUnknown', 'HostKeyChanged', 'Unreachable', 'AuthFailed', 'PassphraseRequired', 'DaemonNotRunning', 'PermissionDenied', 'ConnectFailed', 'ConnectionExists'],
  },
  'connection.remove': {
    params: z.object({ id }),
    result: z.null(),
    doc: 'Disconnect and forget a connection. Its domains keep running on their host.',
    errors: ['NoSuchConnection'],
  },
  'connection.connect': {
    params: z.object({ id, acceptHostKey: z.string().max(128).optional() }),
    result: connectionRowSchema,
    doc: 'Connect (again) now, e.g. after accepting a host key or starting the daemon.',
    errors: ['NoSuchConnection', 'HostKeyUnknown', 'HostKeyChanged', 'Unreachable', 'AuthFailed', 'DaemonNotRunning', 'PermissionDenied', 'ConnectFailed'],
  },
});
export type ConnectionMethods = typeof connectionMethods;

export const connectionEvents = defineEvents({
  'connection.changed': {
    data: connectionRowSchema.extend({ removed: z.boolean().optional() }),
    doc: 'A connection was added, removed, connected or lost.',
  },
});
export type ConnectionEvents = typeof connectionEvents;

