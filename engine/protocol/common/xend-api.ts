// xend's API: every operation a client (xm, the GUI, another engine) can ask of the engine, with
// the states it is allowed in and the errors it refuses with. This file is the whole surface;
// the handlers live in engine/xend/. It is imported by the browser renderer too: schemas only.

import { z } from 'zod';
import { defineEvents, defineMethods, defineStreams } from './define.js';
import { installMethods } from './xend-api-install.js';
import { storageEvents, storageMethods } from './xend-api-storage.js';
import { networkEvents, networkMethods } from './xend-api-network.js';
import { statsEvents, statsMethods } from './xend-api-stats.js';
import { lifecycleMethods } from './xend-api-lifecycle.js';
import { schedMethods } from './xend-api-sched.js';
import { connectionEvents, connectionMethods } from './xend-api-connections.js';

/** A domain by name or numeric id, as every xm command takes it. */
const ref = z.union([z.string().min(1).max(128), z.number().int().nonnegative()]);

const domainStatus = z.enum(['running', 'paused', 'shutdown', 'crashed', 'dying', 'halted']);

export const domainRowSchema = z.object({
  name: z.string(),
  /** Absent for a defined domain that is not running. */
  domid: z.number().int().optional(),
  uuid: z.string().optional(),
  status: domainStatus,
  /** Xen's `rbpscd` letters; `------` for a halted defined domain. */
  state: z.string(),
  memory: z.number(),
  maxmem: z.number(),
  vcpus: z.number().int(),
  cpuTime: z.number(),
  accel: z.string().optional(),
  startTime: z.number().optional(),
  restartCount: z.number().int().optional(),
  /** A halted defined domain with a managed save (domain.managedSave): domain.start restores it. */
  saved: z.boolean().optional(),
  /** Path of the config file for defined domains. */
  configPath: z.string().optional(),
  /** The running (or defined) config, as an xm file: `xm list --long` prints it as an S-expression. */
  config: z.string().optional(),
});
export type DomainRow = z.infer<typeof domainRowSchema>;

const configSource = z.object({
  /** The config file's text; the client reads the file (so paths are resolved where the user is). */
  text: z.string().max(1024 * 1024),
  /** Where it came from, for error messages (`file:line:col`). */
  file: z.string().max(4096),
  /** xm's `var=value` overrides, winning over the file. */
  overrides: z.array(z.string().max(65536)).max(256).default([]),
});

const waitOptions = {
  wait: z.boolean().default(false),
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
};

const lifecycleAction = z.enum(['destroy', 'restart', 'preserve', 'rename-restart', 'coredump-destroy', 'coredump-restart']);

/** The typed domain config (engine/config/types.ts) as it travels to clients. */
export const domainConfigSchema = z.object({
  name: z.string(),
  uuid: z.string().optional(),
  memory: z.number(),
  maxmem: z.number().optional(),
  vcpus: z.number().int(),
  maxvcpus: z.number().int().optional(),
  cpus: z.string().optional(),
  cpu_weight: z.number().int().optional(),
  cpu_cap: z.number().int().optional(),
  builder: z.enum(['linux', 'hvm']),
  kernel: z.string().optional(),
  ramdisk: z.string().optional(),
  extra: z.string().optional(),
  root: z.string().optional(),
  bootloader: z.string().optional(),
  bootargs: z.string().optional(),
  boot: z.string().optional(),
  disk: z.array(
    z.object({
      backend: z.enum(['phy', 'file', 'tap', 'nbd']),
      target: z.string(),
      format: z.enum(['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'qcow']),
      vdev: z.string(),
      devtype: z.enum(['disk', 'cdrom']),
      access: z.enum(['r', 'w', 'w!']),
    }),
  ),
  vif: z.array(
    z.object({
      mac: z.string().optional(),
      bridge: z.string().optional(),
      ip: z.string().optional(),
      vifname: z.string().optional(),
      model: z.string().optional(),
      rate: z.string().optional(),
      type: z.enum(['ioemu', 'netfront', 'vif']).optional(),
      script: z.string().optional(),
      hostfwd: z.string().optional(),
    }),
  ),
  vfb: z.array(
    z.object({
      type: z.enum(['vnc', 'sdl']),
      vnclisten: z.string().optional(),
      vncdisplay: z.number().optional(),
      vncunused: z.boolean().optional(),
      vncpasswd: z.string().optional(),
      keymap: z.string().optional(),
    }),
  ),
  serial: z.string().optional(),
  stdvga: z.boolean(),
  nographic: z.boolean(),
  localtime: z.boolean(),
  acpi: z.boolean(),
  apic: z.boolean(),
  pae: z.boolean(),
  usb: z.boolean(),
  usbdevice: z.string().optional(),
  soundhw: z.string().optional(),
  on_poweroff: lifecycleAction,
  on_reboot: lifecycleAction,
  on_crash: lifecycleAction,
  description: z.string().optional(),
  on_xend_start: z.enum(['ignore', 'start']).optional(),
  on_xend_stop: z.enum(['ignore', 'shutdown', 'suspend']).optional(),
});

/** What the details view may change. Absent keys are left alone; '' clears an optional text. */
export const domainChangesSchema = z.object({
  memory: z.number().int().optional(),
  maxmem: z.number().int().optional(),
  vcpus: z.number().int().optional(),
  maxvcpus: z.number().int().optional(),
  /** Credit scheduler weight and cap: applied live to a running domain (as xm sched-credit). */
  cpu_weight: z.number().int().optional(),
  cpu_cap: z.number().int().optional(),
  boot: z.string().max(8).optional(),
  kernel: z.string().max(4096).optional(),
  ramdisk: z.string().max(4096).optional(),
  extra: z.string().max(4096).optional(),
  root: z.string().max(4096).optional(),
  on_poweroff: lifecycleAction.optional(),
  on_reboot: lifecycleAction.optional(),
  on_crash: lifecycleAction.optional(),
  description: z.string().max(4096).optional(),
  /** Start the domain when the engine starts (Xen's on_xend_start = "start"). */
  autostart: z.boolean().optional(),
});
export type DomainChanges = z.infer<typeof domainChangesSchema>;

export const hostInfoSchema = z.object({
  host: z.string(),
  release: z.string(),
  version: z.string(),
  machine: z.string(),
  nr_cpus: z.number(),
  cpu_mhz: z.number(),
  total_memory: z.number(),
  free_memory: z.number(),
  qemu_version: z.string(),
  accelerator: z.string(),
  accelerator_reason: z.string(),
  dom0_version: z.string(),
  cpu_time: z.number(),
  uptime: z.number(),
  xend_pid: z.number(),
  config_dir: z.string(),
  data_dir: z.string(),
  runtime_dir: z.string(),
});

export const xendMethods = defineMethods({
  ...installMethods,
  ...statsMethods,
  'host.info': {
    params: z.void(),
    result: hostInfoSchema,
    doc: 'Facts about Domain-0 (the host) and the engine: xm info. Always allowed.',
  },
  'log.read': {
    params: z.object({ lines: z.number().int().positive().max(100_000).default(200) }),
    result: z.object({ path: z.string(), text: z.string() }),
    doc: 'The last lines of xend.log: xm log. Always allowed.',
  },
  'domain.list': {
    params: z.object({ includeConfig: z.boolean().default(false) }).optional(),
    result: z.array(domainRowSchema),
    doc: 'Domain-0, running domains and defined-but-halted domains, sorted by name. Always allowed.',
  },
  'domain.create': {
    params: configSource.extend({
      paused: z.boolean().default(false),
      dryRun: z.boolean().default(false),
    }),
    result: z.object({
      name: z.string(),
      domid: z.number().int().optional(),
      /** Dry run: the resolved config as an xm file, and QEMU's command line one option per line. */
      config: z.string().optional(),
      qemu: z.string().optional(),
      warnings: z.array(z.string()),
    }),
    doc: 'Start a domain from a config (xm create): built paused, then run unless paused. Refused if the name or uuid runs.',
    errors: ['ConfigError', 'XmSyntaxError', 'DomainExists', 'PreflightError', 'QemuStartError', 'UnsupportedConfigError'],
  },
  'domain.define': {
    params: configSource,
    result: z.object({ name: z.string(), path: z.string(), warnings: z.array(z.string()) }),
    doc: 'Store a config as a defined domain (xm new). Allowed unless a running domain of that name was started from another config.',
    errors: ['ConfigError', 'XmSyntaxError'],
  },
  'domain.start': {
    params: z.object({ name: z.string().min(1), paused: z.boolean().default(false) }),
    result: z.object({ name: z.string(), domid: z.number().int() }),
    doc: 'Start a defined domain (xm start), restoring its managed save instead of booting if it has one. Refused while it runs.',
    errors: ['NoSuchDomain', 'DomainExists', 'RestoreFailed'],
  },
  'domain.undefine': {
    params: z.object({ name: z.string().min(1) }),
    result: z.null(),
    doc: 'Remove a defined domain (xm delete). Refused while it runs.',
    errors: ['NoSuchDomain', 'InvalidState'],
  },
  'domain.destroy': {
    params: z.object({ ref }),
    result: z.null(),
    doc: 'Kill the domain at once (xm destroy). Allowed in every state but dying.',
    errors: ['NoSuchDomain', 'PrivilegedDomain', 'InvalidState'],
  },
  'domain.shutdown': {
    params: z.object({ ref, reboot: z.boolean().default(false), ...waitOptions }),
    result: z.null(),
    doc: 'Press the ACPI power button (xm shutdown; reboot: xm reboot). Allowed while running.',
    errors: ['NoSuchDomain', 'PrivilegedDomain', 'InvalidState', 'ShutdownTimeout'],
  },
  'domain.shutdownAll': {
    params: z.object({ reboot: z.boolean().default(false), ...waitOptions }),
    result: z.array(z.string()),
    doc: 'Shut down (or reboot) every running domain (xm shutdown -a). Returns the names asked.',
  },
  'domain.reset': {
    params: z.object({ ref }),
    result: z.null(),
    doc: 'Hard reset, like the reset button (Force Reset). Allowed while running or paused.',
    errors: ['NoSuchDomain', 'PrivilegedDomain', 'InvalidState'],
  },
  'domain.delete': {
    params: z.object({
      name: z.string().min(1),
      /** Disk images of this domain to delete too: each must be a file-backed disk of its config. */
      storage: z.array(z.string().max(4096)).max(64).default([]),
      /** A running domain is forced off first only when this is set (the GUI asks the user). */
      force: z.boolean().default(false),
    }),
    result: z.object({ deleted: z.array(z.string()) }),
    doc: 'Delete a domain: force it off if asked, delete the chosen disk images, remove its definition.',
    errors: ['NoSuchDomain', 'InvalidState', 'InvalidPath'],
  },
  'domain.getConfig': {
    params: z.object({ name: z.string().min(1) }),
    result: z.object({
      /** The xm file on disk for a defined domain, else the running config written as one. */
      text: z.string(),
      path: z.string().optional(),
      config: domainConfigSchema,
      /** The QEMU command line the engine builds for this config, one option per line. */
      qemu: z.string(),
    }),
    doc: 'A domain config as text, as typed data and as the QEMU command line. Always allowed.',
    errors: ['NoSuchDomain', 'ConfigError'],
  },
  'domain.update': {
    params: z.object({ name: z.string().min(1), changes: domainChangesSchema }),
    result: z.object({
      /** Changes already in effect in the running guest. */
      live: z.array(z.string()),
      /** Changes saved to the config that take effect after the next shutdown. */
      nextBoot: z.array(z.string()),
      path: z.string(),
    }),
    doc: 'Validate and save changes to the domain config file (a running domain without one gets one); memory is applied live.',
    errors: ['NoSuchDomain', 'ConfigError', 'InvalidState'],
  },
  'domain.pause': {
    params: z.object({ ref }),
    result: z.null(),
    doc: 'Stop scheduling the domain (xm pause). Allowed while running.',
    errors: ['NoSuchDomain', 'PrivilegedDomain', 'InvalidState'],
  },
  'domain.unpause': {
    params: z.object({ ref }),
    result: z.null(),
    doc: 'Resume a paused domain (xm unpause). Allowed while paused.',
    errors: ['NoSuchDomain', 'PrivilegedDomain', 'InvalidState'],
  },
  'domain.rename': {
    params: z.object({ ref, newName: z.string().min(1).max(64) }),
    result: z.null(),
    doc: 'Rename a domain (xm rename); its definition follows. Allowed unless dying.',
    errors: ['NoSuchDomain', 'DomainExists', 'InvalidState'],
  },
  'domain.memSet': {
    params: z.object({ ref, mib: z.number().int() }),
    result: z.null(),
    doc: "Set the balloon target in MiB (xm mem-set), up to maxmem. Allowed while running or paused.",
    errors: ['NoSuchDomain', 'InvalidState'],
  },
  'domain.memMax': {
    params: z.object({ ref, mib: z.number().int() }),
    result: z.object({ effectiveNow: z.boolean() }),
    doc: 'Set maxmem in MiB (xm mem-max). Above the boot memory it takes effect at the next start.',
    errors: ['NoSuchDomain', 'InvalidState'],
  },
  'domain.vcpuSet': {
    params: z.object({ ref, count: z.number().int() }),
    result: z.null(),
    doc: 'Plug vCPUs in or out up to maxvcpus (xm vcpu-set). Allowed while running or paused.',
    errors: ['NoSuchDomain', 'InvalidState'],
  },
  'domain.vcpuList': {
    params: z.object({ ref: ref.optional() }),
    result: z.array(
      z.object({
        name: z.string(),
        domid: z.number().int(),
        vcpu: z.number().int(),
        cpu: z.number().int().optional(),
        state: z.string(),
        cpuTime: z.number(),
        affinity: z.string(),
      }),
    ),
    doc: 'vCPUs of one domain or all (xm vcpu-list), Domain-0 included.',
    errors: ['NoSuchDomain'],
  },
  'domain.sysrq': {
    params: z.object({ ref, key: z.string().length(1) }),
    result: z.null(),
    doc: 'Send Alt+SysRq+key (xm sysrq). Allowed while running.',
    errors: ['NoSuchDomain', 'InvalidState'],
  },
  'domain.sendKey': {
    params: z.object({ ref, keys: z.array(z.string().regex(/^[a-z0-9_]+$/)).min(1).max(8) }),
    result: z.null(),
    doc: "Press keys together on the guest keyboard, QEMU key names (['ctrl','alt','delete']). Allowed while running.",
    errors: ['NoSuchDomain', 'InvalidState'],
  },
  'domain.screenshot': {
    params: z.object({ ref }),
    result: z.object({ png: z.string(), width: z.number().int(), height: z.number().int() }),
    doc: "The guest's screen right now as a base64 PNG (QEMU's screendump). Allowed while its QEMU runs and it has a display.",
    errors: ['NoSuchDomain', 'InvalidState', 'NoDisplay'],
  },
  'domain.dumpCore': {
    params: z.object({
      ref,
      /** Absolute path; default <data>/dump/<name>-<time>.core. */
      path: z.string().max(4096).optional(),
      live: z.boolean().default(false),
      crash: z.boolean().default(false),
      reset: z.boolean().default(false),
    }),
    result: z.object({ path: z.string() }),
    doc: 'Write guest memory as an ELF core (xm dump-core); pauses during the dump unless live.',
    errors: ['NoSuchDomain', 'InvalidState', 'InvalidPath'],
  },
  ...storageMethods,
  ...networkMethods,
  ...lifecycleMethods,
  ...schedMethods,
  ...connectionMethods,
});

export type XendMethods = typeof xendMethods;

export const xendEvents = defineEvents({
  ...statsEvents,
  'domain.changed': {
    data: z.object({
      kind: z.enum(['started', 'paused', 'unpaused', 'shutdown', 'destroyed', 'restarted', 'renamed', 'coredump', 'memory', 'vcpus', 'devices', 'sched', 'defined', 'undefined']),
      name: z.string(),
      domid: z.number().int().optional(),
      detail: z.string().optional(),
    }),
    doc: 'A domain changed state; clients re-read domain.list (or patch their copy).',
  },
  'stats.cpu': {
    data: z.object({
      time: z.number(),
      /** Domain-0 (host) CPU use, % of all host CPUs. */
      host: z.number(),
      /** Guest CPU use per running domain, % of its vCPUs (virt-manager's "guest CPU"). */
      domains: z.array(z.object({ domid: z.number().int(), name: z.string(), cpu: z.number() })),
    }),
    doc: 'One CPU sample for every running domain, each tick (1 s): the manager list sparklines.',
  },
  ...storageEvents,
  ...networkEvents,
  ...connectionEvents,
});

export type XendEvents = typeof xendEvents;

export const xendStreams = defineStreams({
  'console.serial': {
    params: z.object({
      ref,
      /** Bytes of serial.log to replay first, so a new viewer sees recent output. */
      replayBytes: z.number().int().nonnegative().max(1024 * 1024).default(0),
    }),
    doc: "The domain's serial console as a byte pipe (xm console). Allowed while the domain's QEMU runs.",
    errors: ['NoSuchDomain'],
  },
  'console.vnc': {
    params: z.object({ ref }),
    doc:
      "The domain's graphical console: the raw RFB bytes of its VNC server (QEMU's own, which takes several " +
      'viewers at once: each stream is a new client of it). Refused with NoDisplay when the domain has no vfb.',
    errors: ['NoSuchDomain', 'NoDisplay'],
  },
});

export type XendStreams = typeof xendStreams;
