// The Details tab's form: built from the typed config, checked before anything is sent, and turned
// into domain.update's `changes` holding only what the user changed.

import type { DomainChanges, DomainConfig, DomainUpdateResult, LifecycleAction } from '../api/types.js';

export interface DetailsForm {
  vcpus: string;
  maxvcpus: string;
  /** Xen's credit scheduler: relative weight (1-65535) and cap in % of one host CPU (0 = none). */
  cpu_weight: string;
  cpu_cap: string;
  memory: string;
  maxmem: string;
  /** Boot order letters: c disk, d CD-ROM, n network. */
  boot: string;
  kernel: string;
  ramdisk: string;
  extra: string;
  on_poweroff: LifecycleAction;
  on_reboot: LifecycleAction;
  on_crash: LifecycleAction;
  /** Start the domain when the engine starts (the config's on_xend_start = "start"). */
  autostart: boolean;
}

export type DetailsField = keyof DetailsForm;

/** What an input may hold: number inputs give numbers (or '' when empty), checkboxes booleans. */
export type DetailsInput = { [K in DetailsField]: DetailsForm[K] | number };

export const FIELD_LABELS: Readonly<Record<DetailsField, string>> = {
  vcpus: 'vCPUs',
  maxvcpus: 'Maximum vCPUs',
  cpu_weight: 'CPU weight',
  cpu_cap: 'CPU cap (%)',
  memory: 'Memory (MiB)',
  maxmem: 'Maximum memory (MiB)',
  boot: 'Boot order',
  kernel: 'Kernel path',
  ramdisk: 'Initrd path',
  extra: 'Kernel arguments',
  on_poweroff: 'On power off',
  on_reboot: 'On reboot',
  on_crash: 'On crash',
  autostart: 'Start when the engine starts',
};

export const MIN_MEMORY_MIB = 16;
const MAX_TEXT = 4096;

export function formFromConfig(config: DomainConfig): DetailsForm {
  return {
    vcpus: String(config.vcpus),
    maxvcpus: String(config.maxvcpus ?? config.vcpus),
    cpu_weight: String(config.cpu_weight ?? 256),
    cpu_cap: String(config.cpu_cap ?? 0),
    memory: String(config.memory),
    maxmem: String(config.maxmem ?? config.memory),
    boot: config.boot ?? 'c',
    kernel: config.kernel ?? '',
    ramdisk: config.ramdisk ?? '',
    extra: config.extra ?? '',
    on_poweroff: config.on_poweroff,
    on_reboot: config.on_reboot,
    on_crash: config.on_crash,
    autostart: config.on_xend_start === 'start',
  };
}

export interface Validation {
  valid: boolean;
  /** A message per invalid field, shown next to it. */
  errors: Partial<Record<DetailsField, string>>;
  /** Only the valid fields that differ from the original (empty when nothing changed). */
  changes: DomainChanges;
}

type IntResult = { ok: true; value: number } | { ok: false; error: string };

function wholeNumber(raw: string | number, what: string): IntResult {
  const text = String(raw).trim();
  if (text === '') return { ok: false, error: `Enter the ${what}.` };
  if (!/^\d+$/.test(text)) return { ok: false, error: `The ${what} must be a whole number.` };
  return { ok: true, value: Number(text) };
}

/** What the host can give a domain (Domain-0's row: the host's memory and CPUs), as the wizard checks. */
export interface HostLimits {
  memoryMiB: number;
  cpus: number;
}

export function validateDetails(input: DetailsInput, original: DetailsForm, host?: HostLimits): Validation {
  const errors: Partial<Record<DetailsField, string>> = {};
  const changes: DomainChanges = {};
  const changed = (field: DetailsField) => String(input[field]).trim() !== String(original[field]).trim();

  const vcpus = wholeNumber(input.vcpus, 'number of vCPUs');
  if (!vcpus.ok) errors.vcpus = vcpus.error;
  else if (vcpus.value < 1) errors.vcpus = 'A domain needs at least 1 vCPU.';
  else if (vcpus.value > 255) errors.vcpus = 'At most 255 vCPUs.';
  else if (host !== undefined && vcpus.value > host.cpus) errors.vcpus = `The host has ${host.cpus} CPU${host.cpus === 1 ? '' : 's'}: give at most ${host.cpus} vCPUs.`;

  const maxvcpus = wholeNumber(input.maxvcpus, 'maximum number of vCPUs');
  if (!maxvcpus.ok) errors.maxvcpus = maxvcpus.error;
  else if (maxvcpus.value > 255) errors.maxvcpus = 'At most 255 vCPUs.';
  else if (vcpus.ok && maxvcpus.value < vcpus.value) errors.maxvcpus = `Must be at least the vCPUs (${vcpus.value}).`;

  // Xen's ranges (xm sched-credit): the engine checks them again.
  const weight = wholeNumber(input.cpu_weight, 'CPU weight');
  if (!weight.ok) errors.cpu_weight = weight.error;
  else if (weight.value < 1 || weight.value > 65535) errors.cpu_weight = 'The weight is between 1 and 65535 (256 is the default).';
  const cap = wholeNumber(input.cpu_cap, 'CPU cap in %');
  const capMax = (vcpus.ok ? vcpus.value : 1) * 100;
  if (!cap.ok) errors.cpu_cap = cap.error;
  else if (cap.value > capMax) errors.cpu_cap = `At most ${capMax} % (100 per vCPU); 0 means no cap.`;

  const memory = wholeNumber(input.memory, 'memory in MiB');
  if (!memory.ok) errors.memory = memory.error;
  else if (memory.value < MIN_MEMORY_MIB) errors.memory = `Memory must be at least ${MIN_MEMORY_MIB} MiB.`;
  else if (host !== undefined && memory.value > host.memoryMiB) errors.memory = `The host has ${host.memoryMiB} MiB: give at most that.`;

  const maxmem = wholeNumber(input.maxmem, 'maximum memory in MiB');
  if (!maxmem.ok) errors.maxmem = maxmem.error;
  else if (maxmem.value < MIN_MEMORY_MIB) errors.maxmem = `Maximum memory must be at least ${MIN_MEMORY_MIB} MiB.`;
  else if (memory.ok && maxmem.value < memory.value) errors.maxmem = `Maximum memory must be at least the memory (${memory.value} MiB).`;
  else if (host !== undefined && maxmem.value > host.memoryMiB) errors.maxmem = `The host has ${host.memoryMiB} MiB: give at most that.`;

  const boot = String(input.boot);
  if (!/^[cdn]{1,3}$/.test(boot) || new Set(boot).size !== boot.length) errors.boot = 'Choose a boot order.';

  for (const field of ['kernel', 'ramdisk', 'extra'] as const) {
    if (String(input[field]).length > MAX_TEXT) errors[field] = `At most ${MAX_TEXT} characters.`;
  }
  const kernel = String(input.kernel).trim();
  const ramdisk = String(input.ramdisk).trim();
  if (kernel !== '' && !kernel.startsWith('/')) errors.kernel = 'Give the kernel’s absolute path (starting with /).';
  if (ramdisk !== '' && !ramdisk.startsWith('/')) errors.ramdisk = 'Give the initrd’s absolute path (starting with /).';
  else if (ramdisk !== '' && kernel === '') errors.ramdisk = 'An initrd needs a kernel path: set the kernel too, or clear the initrd.';

  // Only valid values count as changes: a form holding nothing but a mistake has nothing to send.
  const sendable = (field: DetailsField) => errors[field] === undefined && changed(field);
  if (vcpus.ok && sendable('vcpus')) changes.vcpus = vcpus.value;
  if (maxvcpus.ok && sendable('maxvcpus')) changes.maxvcpus = maxvcpus.value;
  if (weight.ok && sendable('cpu_weight')) changes.cpu_weight = weight.value;
  if (cap.ok && sendable('cpu_cap')) changes.cpu_cap = cap.value;
  if (memory.ok && sendable('memory')) changes.memory = memory.value;
  if (maxmem.ok && sendable('maxmem')) changes.maxmem = maxmem.value;
  if (sendable('boot')) changes.boot = boot;
  // '' clears the field in the config (boot from disk again).
  if (sendable('kernel')) changes.kernel = kernel;
  if (sendable('ramdisk')) changes.ramdisk = ramdisk;
  if (errors.extra === undefined && String(input.extra) !== original.extra) changes.extra = String(input.extra).trim();
  for (const field of ['on_poweroff', 'on_reboot', 'on_crash'] as const) {
    if (input[field] !== original[field]) changes[field] = input[field] as LifecycleAction;
  }
  // The engine writes on_xend_start = "start" for true and removes it for false.
  const autostart = input.autostart === true;
  if (autostart !== original.autostart) changes.autostart = autostart;

  return { valid: Object.keys(errors).length === 0, errors, changes };
}

const DEVICE_NAMES: Readonly<Record<string, string>> = { c: 'Hard disk', d: 'CD-ROM', n: 'Network (PXE)' };

/** "cd" → "Hard disk, then CD-ROM". */
export function bootOrderLabel(letters: string): string {
  return [...letters].map((l) => DEVICE_NAMES[l] ?? l).join(', then ');
}

/** Every order of one, two or three of the devices, the current value included if it is odd. */
export function bootOrderOptions(current: string): { value: string; label: string }[] {
  const letters = ['c', 'd', 'n'];
  const values: string[] = [];
  for (const a of letters) {
    values.push(a);
    for (const b of letters) {
      if (b === a) continue;
      values.push(a + b);
      for (const c of letters) if (c !== a && c !== b) values.push(a + b + c);
    }
  }
  if (current !== '' && !values.includes(current)) values.unshift(current);
  return values.map((value) => ({ value, label: bootOrderLabel(value) }));
}

export const LIFECYCLE_OPTIONS: readonly { value: LifecycleAction; label: string }[] = [
  { value: 'destroy', label: 'Destroy (power off)' },
  { value: 'restart', label: 'Restart' },
  { value: 'preserve', label: 'Preserve (keep it for inspection)' },
  { value: 'rename-restart', label: 'Rename and restart' },
  { value: 'coredump-destroy', label: 'Dump core, then destroy' },
  { value: 'coredump-restart', label: 'Dump core, then restart' },
];

const CHANGE_LABELS: Readonly<Record<string, string>> = { ...FIELD_LABELS, root: 'Root device', description: 'Description' };

/** domain.update's answer as two lists of field names a user recognises. */
export function describeUpdate(result: Pick<DomainUpdateResult, 'live' | 'nextBoot'>): { live: string[]; nextBoot: string[] } {
  const name = (key: string) => (CHANGE_LABELS[key] ?? key).replace(/ \(MiB\)$/, '');
  return { live: result.live.map(name), nextBoot: result.nextBoot.map(name) };
}

export const MAX_DESCRIPTION = MAX_TEXT;

export interface DescriptionCheck {
  /** Shown next to the Description field when the text cannot be saved. */
  error?: string;
  /** What domain.update gets as `description` ('' clears it); absent when nothing changed. */
  change?: string;
}

/** The Overview's description: trimmed at both ends, at most 4096 characters, sent only if changed. */
export function checkDescription(input: string, original: string | undefined): DescriptionCheck {
  const text = input.trim();
  if (text.length > MAX_DESCRIPTION) return { error: `At most ${MAX_DESCRIPTION} characters (now ${text.length}).` };
  return text === (original ?? '').trim() ? {} : { change: text };
}
