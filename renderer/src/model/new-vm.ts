// The New VM wizard's rules, pure: its form, what each of the five steps requires (messages shown
// under the field), defaults from the OS, and the install description sent to the engine.

import type { InstallDescription } from '../api/install.js';

export type InstallMethod = 'iso' | 'network' | 'pxe' | 'import' | 'kernel';

export const INSTALL_METHODS: readonly { id: InstallMethod; label: string }[] = [
  { id: 'iso', label: 'Local install media (ISO image)' },
  { id: 'network', label: 'Network install (HTTP, HTTPS)' },
  { id: 'pxe', label: 'Network boot (PXE)' },
  { id: 'import', label: 'Import existing disk image' },
  { id: 'kernel', label: 'Direct kernel boot' },
];

export const STEP_TITLES = ['Choose how to install', 'Choose the install media and OS', 'Memory and CPU', 'Storage', 'Ready to begin the installation'] as const;
export const STEP_COUNT = STEP_TITLES.length;

export interface NewVmForm {
  method: InstallMethod;
  isoPath: string;
  url: string;
  extraArgs: string;
  importPath: string;
  kernelPath: string;
  initrdPath: string;
  kernelArgs: string;
  /** Detect the OS from the media (else osId is the user's choice). */
  detectOs: boolean;
  /** '' until detected or chosen. */
  osId: string;
  memory: number;
  vcpus: number;
  storage: boolean;
  storageMode: 'new' | 'existing';
  sizeGiB: number;
  existingPath: string;
  name: string;
  network: 'nat' | 'bridge' | 'none';
  bridge: string;
  graphics: 'vnc' | 'none';
  customize: boolean;
}

export function newVmForm(): NewVmForm {
  return {
    method: 'iso',
    isoPath: '',
    url: '',
    extraArgs: '',
    importPath: '',
    kernelPath: '',
    initrdPath: '',
    kernelArgs: '',
    detectOs: true,
    osId: '',
    memory: 1024,
    vcpus: 1,
    storage: true,
    storageMode: 'new',
    sizeGiB: 10,
    existingPath: '',
    name: '',
    network: 'nat',
    bridge: 'xenbr0',
    graphics: 'vnc',
    customize: false,
  };
}

export interface WizardLimits {
  hostMemoryMiB: number;
  hostCpus: number;
  freeGiB: number;
  existingNames: readonly string[];
}

export type StepErrors = Partial<Record<keyof NewVmForm, string>>;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;
const absolute = (p: string) => p.startsWith('/');

/** What is wrong on one step (1-5); empty when the user may go Forward. */
export function validateStep(step: number, f: NewVmForm, limits: WizardLimits): StepErrors {
  const e: StepErrors = {};
  if (step === 2) {
    if (f.method === 'iso' && !absolute(f.isoPath)) e.isoPath = f.isoPath ? 'Give the full path of the ISO (starting with /).' : 'Choose an ISO image.';
    if (f.method === 'network' && !/^https?:\/\/[^\s]+$/.test(f.url)) e.url = f.url ? 'Give an http:// or https:// URL.' : 'Give the URL of the install tree.';
    if (f.method === 'import' && !absolute(f.importPath)) e.importPath = f.importPath ? 'Give the full path of the disk image.' : 'Choose the disk image to import.';
    if (f.method === 'kernel') {
      if (!absolute(f.kernelPath)) e.kernelPath = f.kernelPath ? 'Give the full path of the kernel.' : 'Choose a kernel.';
      if (f.initrdPath && !absolute(f.initrdPath)) e.initrdPath = 'Give the full path of the initrd.';
    }
    if (!f.osId) e.osId = f.detectOs ? 'The OS was not detected yet: choose the media, or pick the OS from the list.' : 'Choose the operating system (or "Generic or unknown OS").';
  }
  if (step === 3) {
    if (!Number.isInteger(f.memory) || f.memory < 32) e.memory = 'Memory must be a whole number of MiB, at least 32.';
    else if (f.memory > limits.hostMemoryMiB) e.memory = `The host has ${limits.hostMemoryMiB} MiB.`;
    if (!Number.isInteger(f.vcpus) || f.vcpus < 1) e.vcpus = 'At least 1 CPU.';
    else if (f.vcpus > limits.hostCpus) e.vcpus = `The host has ${limits.hostCpus} CPUs.`;
  }
  if (step === 4 && f.storage && f.method !== 'import') {
    if (f.storageMode === 'new') {
      if (!(f.sizeGiB > 0)) e.sizeGiB = 'Give a size above 0 GiB.';
      else if (f.sizeGiB > limits.freeGiB) e.sizeGiB = `Only ${limits.freeGiB.toFixed(1)} GiB are free in the pool.`;
    } else if (!absolute(f.existingPath)) e.existingPath = f.existingPath ? 'Give the full path of the image.' : 'Choose a disk image.';
  }
  if (step === 5) {
    if (!NAME_PATTERN.test(f.name)) e.name = 'Use 1-64 letters, digits, ".", "_", "+" or "-", starting with a letter or digit.';
    else if (f.name === 'Domain-0' || limits.existingNames.includes(f.name)) e.name = `A domain named ${f.name} exists already.`;
    if (f.network === 'bridge' && !/^[A-Za-z0-9_.-]{1,15}$/.test(f.bridge)) e.bridge = 'Give the name of an existing bridge, such as xenbr0.';
  }
  return e;
}

/** A free name from the OS id, as virt-manager suggests one (`debian12`, `debian12-2`, ...). */
export function suggestName(osId: string, existing: readonly string[]): string {
  const base = (osId || 'vm').replace(/[^A-Za-z0-9_.+-]/g, '-');
  if (!existing.includes(base)) return base;
  for (let n = 2; ; n++) if (!existing.includes(`${base}-${n}`)) return `${base}-${n}`;
}

export function toDescription(f: NewVmForm): InstallDescription {
  const source: InstallDescription['source'] =
    f.method === 'iso'
      ? { kind: 'cdrom', path: f.isoPath }
      : f.method === 'network'
        ? { kind: 'location', url: f.url, ...(f.extraArgs ? { extraArgs: f.extraArgs } : {}) }
        : f.method === 'pxe'
          ? { kind: 'pxe' }
          : f.method === 'import'
            ? { kind: 'import' }
            : { kind: 'kernel', kernel: f.kernelPath, ...(f.initrdPath ? { initrd: f.initrdPath } : {}), ...(f.kernelArgs ? { args: f.kernelArgs } : {}) };
  const disks: InstallDescription['disks'] =
    f.method === 'import'
      ? [{ kind: 'existing', path: f.importPath }]
      : !f.storage
        ? []
        : f.storageMode === 'new'
          ? [{ kind: 'new', sizeGiB: f.sizeGiB }]
          : [{ kind: 'existing', path: f.existingPath }];
  return {
    name: f.name,
    memory: f.memory,
    vcpus: f.vcpus,
    osVariant: f.osId || 'generic',
    source,
    disks,
    network: f.network === 'bridge' ? { kind: 'bridge', bridge: f.bridge } : { kind: f.network },
    graphics: f.graphics,
    start: !f.customize,
  };
}

/** The summary rows of the last step. */
export function summaryOf(f: NewVmForm, osName: string): [string, string][] {
  const method = INSTALL_METHODS.find((m) => m.id === f.method)!.label;
  const media = f.method === 'iso' ? f.isoPath : f.method === 'network' ? f.url : f.method === 'import' ? f.importPath : f.method === 'kernel' ? f.kernelPath : 'network (PXE)';
  const storage =
    f.method === 'import' ? f.importPath : !f.storage ? 'None' : f.storageMode === 'new' ? `${f.sizeGiB} GiB new disk image (qcow2)` : f.existingPath;
  return [
    ['OS', osName],
    ['Install', method],
    ['Media', media],
    ['Memory', `${f.memory} MiB`],
    ['CPUs', String(f.vcpus)],
    ['Storage', storage],
  ];
}
