// From parsed xm assignments to a typed DomainConfig. Every problem is collected (not just the
// first) and located at the assignment that caused it, so one run of `xm create -n` shows them all.

import { parseDiskSpec } from './disk.js';
import { ConfigError, SpecError } from './errors.js';
import { COMMAND_LINE, parseOverride, parseXm } from './parser.js';
import {
  LIFECYCLE_ACTIONS,
  type ConfigIssue,
  type DiskSpec,
  type DomainConfig,
  type LifecycleAction,
  type VfbSpec,
  type VifSpec,
} from './types.js';
import { formatXmString, formatXmValue, type XmAssignment, type XmFile, type XmValue } from './values.js';
import { MAX_VNC_DISPLAY, checkKeymap, checkListen, parseVfbSpec } from './vfb.js';
import { parseVifSpec } from './vif.js';
import { hasControlCharacter } from '../common/safe-path.js';

/** What xend used when a key is absent. */
export const DOMAIN_DEFAULTS = {
  memory: 128,
  vcpus: 1,
  builder: 'linux',
  on_poweroff: 'destroy',
  on_reboot: 'restart',
  on_crash: 'restart',
  acpi: true,
  apic: true,
  pae: true,
  localtime: false,
  usb: false,
  stdvga: false,
  nographic: false,
} as const satisfies Partial<DomainConfig>;

export const MEMORY_MIN_MIB = 16;
export const MEMORY_MAX_MIB = 1048576;
export const VCPUS_MAX = 255;
const CPU_NUMBER_MAX = 4095;

/** Keys Xen users have in their files that mean nothing for a QEMU guest: accepted, not kept. */
const IGNORED_KEYS = new Set([
  'device_model', 'device_model_version', 'device_model_override', 'shadow_memory', 'hap',
  'viridian', 'hpet', 'timer_mode', 'nestedhvm', 'xen_platform_pci',
  'vpt_align', 'rtc_timeoffset', 'vncconsole', 'vncviewer',
  'extid', 'vhpt', 'videoram', 'display', 'xauthority', 'opengl', 'monitor', 'guest_os_type',
  'pci_msitranslate', 'pci_power_mgmt', 's3_mode', 's4_mode',
  // Xen's time-stamp counter and stub-domain settings: QEMU's guest clock needs neither.
  'tsc_mode', 'device_model_stubdomain_override', 'superpages', 'nomigrate',
]);

/** xm's kernel-IP keys, which Xen folded into one `ip=` kernel argument. */
const KERNEL_IP_KEYS = ['ip', 'netmask', 'gateway', 'hostname', 'interface', 'dhcp', 'nfs_server', 'nfs_root'] as const;

/** Xen's HVM firmware, named as the "kernel" of an HVM config, with or without its path. */
export const HVMLOADER = /(^|\/)hvmloader$/;
/** PV-GRUB: Xen's stub-domain GRUB, which boots the guest's own kernel from its disk. */
export const PV_GRUB = /(^|\/)pv-grub[^/]*\.gz$/;

const PASSTHROUGH_KEYS = ['pci', 'irq', 'ioports'];

interface Entry {
  key: string;
  value: XmValue;
  source?: string;
  file: string;
  line: number;
  col: number;
}

/** A value as the user would write it, shortened for messages. */
function show(v: XmValue): string {
  const s = formatXmValue(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function checkCpus(s: string): string | null {
  if (s === 'all') return null;
  let includes = false;
  for (const part of s.split(',')) {
    const m = /^(\^?)(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `cpus ${formatXmString(s)}: '${part}' is not a cpu number, range (0-3) or exclusion (^1)`;
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (to < from) return `cpus ${formatXmString(s)}: the range '${part}' runs backwards`;
    if (to > CPU_NUMBER_MAX) return `cpus ${formatXmString(s)}: cpu ${to} is beyond ${CPU_NUMBER_MAX}`;
    if (m[1] === '') includes = true;
  }
  if (!includes) return `cpus ${formatXmString(s)} only excludes cpus; name the ones to use too, as in "0-3,^1"`;
  return null;
}

class Checker {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly used = new Set<string>();

  constructor(readonly entries: Map<string, Entry>) {}

  error(e: Entry, message: string): void {
    this.errors.push({ file: e.file, line: e.line, col: e.col, message });
  }

  warn(e: Entry, message: string): void {
    this.warnings.push({ file: e.file, line: e.line, col: e.col, message });
  }

  /** The entry for `key`; `None` counts as not set, as xm treated it. */
  get(key: string): Entry | undefined {
    this.used.add(key);
    const e = this.entries.get(key);
    return e === undefined || e.value === null ? undefined : e;
  }

  unused(): Entry[] {
    return [...this.entries.values()].filter((e) => !this.used.has(e.key));
  }

  str(key: string, kind: 'text' | 'line' | 'path' = 'line'): { e: Entry; s: string } | undefined {
    const e = this.get(key);
    if (e === undefined) return undefined;
    let s: string;
    if (typeof e.value === 'string') s = e.value;
    // On the command line `name=0x10` means the text, which is how xm read it.
    else if (e.source !== undefined && !Array.isArray(e.value)) s = e.source;
    else {
      this.error(e, `${key} must be a string, got ${show(e.value)}`);
      return undefined;
    }
    if (kind === 'text' && s.includes('\0')) {
      this.error(e, `${key} must not contain a NUL character`);
      return undefined;
    }
    // A control character in a one-line value (a newline in extra, a tab in a path) would make a
    // definition that writes fine and then cannot start, or a QEMU option other than the one meant.
    if (kind !== 'text' && hasControlCharacter(s)) {
      this.error(e, `${key} must not contain a newline or other control character`);
      return undefined;
    }
    if (kind === 'path' && !s.startsWith('/')) {
      this.error(e, `${key} must be an absolute path (starting with /), got ${formatXmString(s)}`);
      return undefined;
    }
    return { e, s };
  }

  int(key: string, unit: string, min: number, max: number): { e: Entry; n: number } | undefined {
    const e = this.get(key);
    if (e === undefined) return undefined;
    const v = e.value;
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) n = Number(v);
    if (n === undefined) {
      this.error(e, `${key} must be a whole number${unit ? ` of ${unit}` : ''}, got ${show(v)}`);
      return undefined;
    }
    if (n < min || n > max) {
      this.error(e, `${key} must be between ${min} and ${max}${unit ? ` ${unit}` : ''}, got ${n}`);
      return undefined;
    }
    return { e, n };
  }

  bool(key: string): boolean | undefined {
    const e = this.get(key);
    if (e === undefined) return undefined;
    const v = e.value;
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    if (typeof v === 'string') {
      const t = v.trim().toLowerCase();
      if (['1', 'true', 'yes'].includes(t)) return true;
      if (['0', 'false', 'no'].includes(t)) return false;
    }
    this.error(e, `${key} must be True, False, 1 or 0, got ${show(v)}`);
    return undefined;
  }

  /** A list of spec strings; one bare string is taken as a one-item list. */
  specs(key: string, example: string): { e: Entry; items: string[] } | undefined {
    const e = this.get(key);
    if (e === undefined) return undefined;
    const v = e.value;
    if (typeof v === 'string') return { e, items: [v] };
    if (!Array.isArray(v)) {
      this.error(e, `${key} must be a list of strings such as [ ${example} ], got ${show(v)}`);
      return undefined;
    }
    const items: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === 'string') items.push(item);
      else this.error(e, `${key} entry ${i + 1} must be a string such as ${example}, got ${show(item)}`);
    });
    return { e, items };
  }

  /** Parses each spec, reporting failures as `disk entry 2 "...": reason`. */
  parseEach<T>(key: string, example: string, parse: (s: string) => T): { e: Entry; out: T[] } | undefined {
    const list = this.specs(key, example);
    if (list === undefined) return undefined;
    const out: T[] = [];
    list.items.forEach((s, i) => {
      try {
        out.push(parse(s));
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        this.error(list.e, `${key} entry ${i + 1} ${show(s)}: ${err.reason}`);
      }
    });
    return { e: list.e, out };
  }
}

/** Why `name` cannot name a domain (it becomes file and dir names: no '/', no '..'), or null. */
export function checkDomainName(name: string): string | null {
  if (name === '') return 'name must not be empty';
  if (name.length > 64) return `name must be at most 64 characters, got ${name.length}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    return `name ${formatXmString(name)} may only contain letters, digits, '_', '.' and '-'`;
  }
  if (name.startsWith('-') || name.startsWith('.')) return `name ${formatXmString(name)} must not start with '-' or '.'`;
  if (name === 'Domain-0') return 'name "Domain-0" is reserved for the host; choose another name';
  return null;
}

function lifecycle(c: Checker, key: 'on_poweroff' | 'on_reboot' | 'on_crash'): LifecycleAction {
  const fallback = DOMAIN_DEFAULTS[key];
  const got = c.str(key);
  if (got === undefined) return fallback;
  const allowed = LIFECYCLE_ACTIONS.filter((a) => key === 'on_crash' || !a.startsWith('coredump-'));
  if ((allowed as string[]).includes(got.s)) return got.s as LifecycleAction;
  const hint = got.s.startsWith('coredump-') && key !== 'on_crash' ? ' (coredump actions are only for on_crash)' : '';
  c.error(got.e, `${key} must be one of ${allowed.join(', ')}${hint}, got ${formatXmString(got.s)}`);
  return fallback;
}

function duplicates<T>(c: Checker, e: Entry, items: T[], what: string, keyOf: (x: T) => string | undefined): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = keyOf(item);
    if (k === undefined) return;
    const first = seen.get(k);
    if (first !== undefined) c.error(e, `${e.key} entries ${first + 1} and ${i + 1} both use ${what} ${k}; each needs its own`);
    else seen.set(k, i);
  });
}

/**
 * Xen gave a PV guest partitions as devices of their own (`phy:sda7,sda1,w` + `phy:sda6,sda6,r`).
 * A QEMU guest only gets whole disks, so a second partition of the same disk becomes the next
 * free disk of that kind, and the user is told what the guest sees.
 */
function wholeDisks(c: Checker, e: Entry, disks: DiskSpec[]): void {
  const taken = new Set(disks.map((d) => d.vdev));
  const seen = new Set<string>();
  disks.forEach((d, i) => {
    const original = `${d.vdev}${d.partition ?? ''}`;
    if (seen.has(d.vdev) && d.partition !== undefined) {
      const m = /^(xvd|hd|sd)([a-z]+)$/.exec(d.vdev);
      let letter = (m?.[2] ?? 'a').charCodeAt(0);
      let next = d.vdev;
      while (taken.has(next) && letter < 'z'.charCodeAt(0)) next = `${m?.[1] ?? ''}${String.fromCharCode(++letter)}`;
      if (!taken.has(next)) {
        taken.add(next);
        d.vdev = next;
        delete d.partition;
        c.warn(e, `disk entry ${i + 1}: ${original} is a partition in Xen; Dom0 attaches whole disks, so the guest sees this one as ${next} (change root=/usr= arguments that name ${original})`);
      }
    } else if (d.partition !== undefined) {
      c.warn(e, `disk entry ${i + 1}: ${original} is a partition in Xen; Dom0 attaches the image as the whole disk ${d.vdev}`);
    }
    seen.add(d.vdev);
  });
}

/** Folds the HVM-style top-level vnc/sdl keys into `vfb`, as xend did. */
function displayKeys(c: Checker, vfb: VfbSpec[]): void {
  const vnc = c.bool('vnc');
  const sdl = c.bool('sdl');
  const fields: Omit<VfbSpec, 'type'> = {};
  const given: Entry[] = [];
  const listen = c.str('vnclisten');
  if (listen) {
    const err = checkListen(listen.s);
    if (err) c.error(listen.e, err);
    else fields.vnclisten = listen.s;
    given.push(listen.e);
  }
  const display = c.int('vncdisplay', '', 0, MAX_VNC_DISPLAY);
  if (display) {
    fields.vncdisplay = display.n;
    given.push(display.e);
  }
  const unusedEntry = c.get('vncunused');
  const unused = c.bool('vncunused');
  if (unusedEntry && unused !== undefined) {
    fields.vncunused = unused;
    given.push(unusedEntry);
  }
  const passwd = c.str('vncpasswd');
  if (passwd) {
    if (passwd.s.includes(',')) c.error(passwd.e, 'vncpasswd must not contain a comma');
    else fields.vncpasswd = passwd.s;
    given.push(passwd.e);
  }
  const keymap = c.str('keymap');
  if (keymap) {
    const err = checkKeymap(keymap.s);
    if (err) c.error(keymap.e, err);
    else fields.keymap = keymap.s;
  }

  if (vnc === true) {
    if (vfb.some((v) => v.type === 'vnc')) {
      for (const e of given) c.warn(e, `${e.key} is ignored: vfb already describes the vnc display`);
    } else {
      vfb.push({ type: 'vnc', ...fields });
    }
  } else {
    for (const e of given) c.warn(e, `${e.key} has no effect without vnc = 1`);
  }
  const sdlEntry = c.entries.get('sdl');
  if ((sdl === true || vfb.some((v) => v.type === 'sdl')) && sdlEntry) {
    c.warn(sdlEntry, 'sdl: the guest screen shows in Dom0\'s console window (no SDL window opens on the host)');
  }
  if (sdl === true && !vfb.some((v) => v.type === 'sdl')) {
    vfb.push(fields.keymap === undefined ? { type: 'sdl' } : { type: 'sdl', keymap: fields.keymap });
  }
  if (keymap && vnc !== true && sdl !== true) c.warn(keymap.e, 'keymap has no effect without vnc = 1 or sdl = 1');
}

/** Kernel arguments in the order Xen built them: its own `ip=`/`nfsroot=` first, the user's last. */
function joinArgs(prefix: string | undefined, extra: string | undefined): string {
  return [prefix, extra].filter((x) => x !== undefined && x !== '').join(' ');
}

/**
 * xm's `ip`, `netmask`, `gateway`, `hostname`, `interface`, `dhcp` and `nfs_*` keys, as Xen turned
 * them into kernel arguments (tools/python/xen/xm/create.py preprocess_ip/preprocess_nfs and
 * xend/XendConfig.py): `ip=<ip>:<nfs server>:<gateway>:<netmask>:<hostname>:<interface>:<dhcp>`,
 * given only when ip is set or dhcp is not "off", and not when `extra` already has an ip=.
 */
function kernelIpArgument(c: Checker): { e: Entry; args: string } | undefined {
  const got = new Map<string, { e: Entry; s: string }>();
  for (const key of KERNEL_IP_KEYS) {
    const v = c.str(key);
    if (v) got.set(key, v);
  }
  const first = [...got.values()].sort((a, b) => a.e.line - b.e.line)[0];
  if (first === undefined) return undefined;
  const val = (key: string, fallback = ''): string => got.get(key)?.s ?? fallback;
  for (const [key, v] of got) {
    if (/\s/.test(v.s)) c.error(v.e, `${key} must not contain spaces, got ${formatXmString(v.s)}`);
  }
  const dhcp = val('dhcp', 'off');
  const args: string[] = [];
  const nfsRoot = got.get('nfs_root');
  if (nfsRoot) {
    const server = got.get('nfs_server');
    if (!server) c.error(nfsRoot.e, 'nfs_root needs nfs_server: set nfs_server = "<address of the NFS server>"');
    else args.push(`nfsroot=${server.s}:${nfsRoot.s}`);
  }
  if (val('ip') !== '' || dhcp !== 'off') {
    const ip = [val('ip'), val('nfs_server', '127.0.255.255'), val('gateway'), val('netmask'), val('hostname'), val('interface', 'eth0'), dhcp];
    const extra = c.entries.get('extra');
    if (!(typeof extra?.value === 'string' && /ip=[^ ]+/.test(extra.value))) args.unshift(`ip=${ip.join(':')}`);
  }
  return args.length > 0 ? { e: first.e, args: args.join(' ') } : undefined;
}

/**
 * Validates parsed assignments into a DomainConfig. `overrides` (from `var=value` arguments) win
 * over the file. Throws ConfigError listing every problem; returns the warnings otherwise.
 */
export function domainConfigFromXm(
  file: XmFile,
  overrides: XmAssignment[] = [],
): { config: DomainConfig; warnings: ConfigIssue[] } {
  const entries = new Map<string, Entry>();
  for (const a of file.assignments) entries.set(a.key, { ...a, file: file.file });
  for (const a of overrides) entries.set(a.key, { ...a, file: COMMAND_LINE });
  const c = new Checker(entries);

  let name = '';
  const nameGot = c.str('name');
  if (nameGot) {
    const err = checkDomainName(nameGot.s);
    if (err) c.error(nameGot.e, err);
    name = nameGot.s;
  } else if (c.get('name') === undefined) {
    c.errors.push({
      file: file.file,
      line: 1,
      col: 1,
      message: 'name is required: add name = "..." to the config (or name=... on the command line)',
    });
  }

  let uuid: string | undefined;
  const uuidGot = c.str('uuid');
  if (uuidGot) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuidGot.s)) {
      c.error(uuidGot.e, `uuid ${formatXmString(uuidGot.s)} must look like 06ed00fe-1162-4fc4-b5d8-11993ee4a8b9`);
    } else if (/^[0-]+$/.test(uuidGot.s)) {
      c.error(uuidGot.e, 'uuid 00000000-0000-0000-0000-000000000000 is Domain-0\'s; remove uuid to get a random one');
    } else {
      uuid = uuidGot.s.toLowerCase();
    }
  }

  let builder: DomainConfig['builder'] = DOMAIN_DEFAULTS.builder;
  const builderGot = c.str('builder');
  if (builderGot) {
    if (builderGot.s === 'linux' || builderGot.s === 'hvm') builder = builderGot.s;
    else c.error(builderGot.e, `builder must be "linux" or "hvm", got ${formatXmString(builderGot.s)}`);
  }
  // xl spells the same choice `type = "pv" | "hvm"`.
  const typeGot = c.str('type');
  if (typeGot) {
    // PVH is a PV kernel entered directly: for QEMU that is direct kernel boot, as for pv.
    const t = typeGot.s === 'pv' || typeGot.s === 'pvh' ? 'linux' : typeGot.s === 'hvm' ? 'hvm' : undefined;
    if (t === undefined) c.error(typeGot.e, `type must be "pv", "pvh" or "hvm", got ${formatXmString(typeGot.s)}`);
    else if (builderGot && builderGot.s !== t) c.error(typeGot.e, `type ${formatXmString(typeGot.s)} contradicts builder ${formatXmString(builderGot.s)}`);
    else builder = t;
  }

  const memory = c.int('memory', 'MiB', MEMORY_MIN_MIB, MEMORY_MAX_MIB)?.n ?? DOMAIN_DEFAULTS.memory;
  const maxmemGot = c.int('maxmem', 'MiB', MEMORY_MIN_MIB, MEMORY_MAX_MIB);
  if (maxmemGot && maxmemGot.n < memory) c.error(maxmemGot.e, `maxmem (${maxmemGot.n} MiB) must be at least memory (${memory} MiB)`);
  const vcpus = c.int('vcpus', '', 1, VCPUS_MAX)?.n ?? DOMAIN_DEFAULTS.vcpus;
  const maxvcpusGot = c.int('maxvcpus', '', 1, VCPUS_MAX);
  if (maxvcpusGot && maxvcpusGot.n < vcpus) c.error(maxvcpusGot.e, `maxvcpus (${maxvcpusGot.n}) must be at least vcpus (${vcpus})`);

  let cpus: string | undefined;
  const cpusEntry = c.get('cpus');
  let cpusText: string | undefined;
  if (cpusEntry && typeof cpusEntry.value === 'number') cpusText = String(cpusEntry.value);
  else if (cpusEntry && Array.isArray(cpusEntry.value)) {
    c.error(cpusEntry, 'cpus as a list (per-vcpu pinning) is not supported; write one string such as "0-3,^1"');
  } else cpusText = c.str('cpus')?.s;
  if (cpusEntry && cpusText !== undefined) {
    const err = checkCpus(cpusText);
    if (err) c.error(cpusEntry, err);
    else cpus = cpusText;
  }

  // Xen's credit scheduler: weight 1..65535, cap in % of one CPU up to vcpus x 100 (0 = none).
  const cpuWeight = c.int('cpu_weight', '', 1, 65535);
  const cpuCap = c.int('cpu_cap', '', 0, VCPUS_MAX * 100);
  if (cpuCap && cpuCap.n > vcpus * 100) c.error(cpuCap.e, `cpu_cap (${cpuCap.n}) is more than ${vcpus} vCPU(s) can use: at most ${vcpus * 100}`);

  const kernelRaw = c.str('kernel');
  let kernel: { e: Entry; s: string } | undefined;
  let pvGrub: { e: Entry; s: string } | undefined;
  if (kernelRaw && HVMLOADER.test(kernelRaw.s)) {
    // HVM configs name Xen's firmware as the "kernel"; QEMU brings its own (SeaBIOS).
    if (builderGot?.s === 'linux' || (typeGot && typeGot.s !== 'hvm')) {
      c.error(kernelRaw.e, `kernel ${formatXmString(kernelRaw.s)} is Xen's HVM firmware: set builder = "hvm", or name a Linux kernel`);
    }
    builder = 'hvm';
  } else if (kernelRaw && PV_GRUB.test(kernelRaw.s)) {
    pvGrub = kernelRaw;
  } else if (kernelRaw) {
    if (kernelRaw.s.startsWith('/')) kernel = kernelRaw;
    else c.error(kernelRaw.e, `kernel must be an absolute path (starting with /), got ${formatXmString(kernelRaw.s)}`);
  }
  const ramdisk = c.str('ramdisk', 'path');
  // Kernel command line words: one line, however they were written.
  let extra = c.str('extra');
  const root = c.str('root');
  let bootloader = c.str('bootloader');
  if (bootloader && !bootloader.s.startsWith('/') && !/^[A-Za-z0-9._-]+$/.test(bootloader.s)) {
    c.error(bootloader.e, `bootloader must be an absolute path or a program name such as "pygrub", got ${formatXmString(bootloader.s)}`);
    bootloader = undefined;
  }
  if (pvGrub) {
    // PV-GRUB reads the guest's own menu.lst from its disk: under QEMU the firmware runs the
    // guest's boot loader from that disk, which is the same boot. `extra` is PV-GRUB's argument.
    bootloader ??= pvGrub;
    if (extra) {
      c.warn(extra.e, `extra ${formatXmString(extra.s)} is PV-GRUB's menu argument; the guest's own boot loader reads its menu from the first disk`);
      extra = undefined;
    }
  }
  const kernelIp = kernelIpArgument(c);
  if (kernelIp && !kernel) {
    c.warn(kernelIp.e, `${kernelIp.e.key} only reaches a kernel that Dom0 boots directly (kernel = "..."); this domain boots from its disk`);
  }
  const bootargs = c.str('bootargs');
  let boot: string | undefined;
  const bootGot = c.str('boot');
  if (bootGot) {
    if (/^[acdn]+$/.test(bootGot.s)) boot = bootGot.s;
    else {
      c.error(bootGot.e, `boot may only contain the letters a (floppy), c (disk), d (cdrom) and n (network), got ${formatXmString(bootGot.s)}`);
    }
  }

  const disks = c.parseEach<DiskSpec>('disk', '"phy:/dev/vg/lv,xvda,w"', parseDiskSpec);
  if (disks) {
    wholeDisks(c, disks.e, disks.out);
    duplicates(c, disks.e, disks.out, 'vdev', (d) => d.vdev);
  }
  const vifs = c.parseEach<VifSpec>('vif', '"bridge=xenbr0"', parseVifSpec);
  if (vifs) {
    duplicates(c, vifs.e, vifs.out, 'mac', (v) => v.mac);
    duplicates(c, vifs.e, vifs.out, 'vifname', (v) => v.vifname);
  }
  const vfb = c.parseEach<VfbSpec>('vfb', '"vnc=1"', parseVfbSpec)?.out ?? [];
  displayKeys(c, vfb);

  const serial = c.str('serial');
  if (serial && !['pty', 'none', ''].includes(serial.s)) {
    c.warn(serial.e, `serial ${formatXmString(serial.s)}: the guest's serial port is Dom0's console (xm console, the Console tab), not ${serial.s}`);
  }
  const parallel = c.str('parallel');
  if (parallel && parallel.s !== 'none' && parallel.s !== '') {
    c.warn(parallel.e, `parallel ${formatXmString(parallel.s)}: guests get no parallel port; the setting is not used`);
  }
  const description = c.str('description', 'text');
  const onXendStart = c.str('on_xend_start');
  if (onXendStart && onXendStart.s !== 'ignore' && onXendStart.s !== 'start') {
    c.error(onXendStart.e, `on_xend_start must be "ignore" or "start", got ${formatXmString(onXendStart.s)}`);
  }
  const onXendStop = c.str('on_xend_stop');
  if (onXendStop && !['ignore', 'shutdown', 'suspend'].includes(onXendStop.s)) {
    c.error(onXendStop.e, `on_xend_stop must be "ignore", "shutdown" or "suspend", got ${formatXmString(onXendStop.s)}`);
  }
  const usbdevice = c.str('usbdevice');
  const soundhw = c.str('soundhw');
  if (soundhw) c.warn(soundhw.e, `soundhw ${formatXmString(soundhw.s)}: the guest has the sound card, its sound is not played on the host`);

  const config: DomainConfig = {
    name,
    memory,
    vcpus,
    builder,
    disk: disks?.out ?? [],
    vif: vifs?.out ?? [],
    vfb,
    stdvga: c.bool('stdvga') ?? DOMAIN_DEFAULTS.stdvga,
    nographic: c.bool('nographic') ?? DOMAIN_DEFAULTS.nographic,
    localtime: c.bool('localtime') ?? DOMAIN_DEFAULTS.localtime,
    acpi: c.bool('acpi') ?? DOMAIN_DEFAULTS.acpi,
    apic: c.bool('apic') ?? DOMAIN_DEFAULTS.apic,
    pae: c.bool('pae') ?? DOMAIN_DEFAULTS.pae,
    usb: c.bool('usb') ?? DOMAIN_DEFAULTS.usb,
    on_poweroff: lifecycle(c, 'on_poweroff'),
    on_reboot: lifecycle(c, 'on_reboot'),
    on_crash: lifecycle(c, 'on_crash'),
  };
  if (uuid !== undefined) config.uuid = uuid;
  if (maxmemGot) config.maxmem = maxmemGot.n;
  if (maxvcpusGot) config.maxvcpus = maxvcpusGot.n;
  if (cpus !== undefined) config.cpus = cpus;
  if (cpuWeight) config.cpu_weight = cpuWeight.n;
  if (cpuCap) config.cpu_cap = cpuCap.n;
  if (kernel) config.kernel = kernel.s;
  if (ramdisk) config.ramdisk = ramdisk.s;
  if (extra || (kernelIp && kernel)) config.extra = joinArgs(kernel ? kernelIp?.args : undefined, extra?.s);
  if (root) config.root = root.s;
  if (bootloader) config.bootloader = bootloader.s;
  if (bootargs) config.bootargs = bootargs.s;
  if (boot !== undefined) config.boot = boot;
  if (serial) config.serial = serial.s;
  if (usbdevice) config.usbdevice = usbdevice.s;
  if (soundhw) config.soundhw = soundhw.s;
  if (description) config.description = description.s;
  if (onXendStart && (onXendStart.s === 'ignore' || onXendStart.s === 'start')) config.on_xend_start = onXendStart.s;
  if (onXendStop && (onXendStop.s === 'ignore' || onXendStop.s === 'shutdown' || onXendStop.s === 'suspend')) config.on_xend_stop = onXendStop.s;

  for (const key of PASSTHROUGH_KEYS) {
    const e = c.get(key);
    if (e === undefined || e.value === '' || (Array.isArray(e.value) && e.value.length === 0)) continue;
    c.error(e, `PCI passthrough is not supported; remove '${key}' from the config`);
  }
  const variables = new Set(file.references ?? []);
  for (const e of c.unused()) {
    // A name the file reads (`vmid=1` on the command line, Xen's `arch_libdir`) is a variable, not a setting.
    if (variables.has(e.key)) continue;
    if (!IGNORED_KEYS.has(e.key)) c.warn(e, `unknown key '${e.key}' ignored`);
  }

  const order = (i: ConfigIssue): number => (i.file === COMMAND_LINE ? 1 : 0);
  const byPlace = (a: ConfigIssue, b: ConfigIssue): number => order(a) - order(b) || a.line - b.line || a.col - b.col;
  if (c.errors.length > 0) throw new ConfigError([...c.errors].sort(byPlace));
  return { config, warnings: [...c.warnings].sort(byPlace) };
}

/**
 * Text of an xm file plus `var=value` arguments → DomainConfig: what `xm create` does before
 * anything starts. Throws XmSyntaxError or ConfigError.
 */
export function loadDomainConfigText(
  text: string,
  file: string,
  overrides: string[] = [],
): { config: DomainConfig; warnings: ConfigIssue[] } {
  let col = 1;
  const args = overrides.map((arg) => {
    const a = parseOverride(arg, col);
    col += [...arg].length + 1;
    return a;
  });
  // As in xm, the arguments are variables the file can use (Xen's `name = "VM%d" % vmid`).
  const parsed = parseXm(text, file, args);
  return domainConfigFromXm(parsed, args);
}
