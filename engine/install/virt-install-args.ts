// virt-install's command line → an install description. Pure, so every option is unit-tested;
// the CLI (engine/cli/virt-install.ts) sends the description to xend.

import { InstallError } from './errors.js';
import type { DiskRequest, InstallDescription, InstallSource, NetworkRequest } from './types.js';

export interface VirtInstallArgs {
  description: InstallDescription;
  dryRun: boolean;
  /** --print-config: print the definition (or, with =install, the installer run's config); implies a dry run. */
  printConfig?: 'final' | 'install';
  autoconsole: boolean;
  /** --osinfo list / --os-variant list */
  listOs: boolean;
  help: boolean;
}

const VALUED = new Set([
  '--name', '-n', '--memory', '--ram', '-r', '--vcpus', '--disk', '--cdrom', '-c', '--location', '-l', '--boot', '--network', '-w',
  '--graphics', '--os-variant', '--osinfo', '--extra-args', '-x', '--description',
]);
const FLAGS = new Set(['--import', '--pxe', '--noautoconsole', '--dry-run', '--print-config', '--print-xml', '--help', '-h', '--nographics', '--autoconsole']);

const usage = (m: string): never => {
  throw new InstallError('InvalidInstall', m);
};

/** `a=1,b=2` (and a leading bare value, `virt-install --disk /path,format=raw`) → map. */
export function parseSubopts(value: string, bareKey: string): Map<string, string> {
  const out = new Map<string, string>();
  value.split(',').forEach((part, i) => {
    if (part === '') return;
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (i === 0) out.set(bareKey, part);
      else out.set(part, 'on');
    } else out.set(part.slice(0, eq), part.slice(eq + 1));
  });
  return out;
}

function number(value: string | undefined, what: string): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n) || n <= 0) usage(`${what}: expected a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function onlyKeys(map: Map<string, string>, allowed: string[], what: string): void {
  for (const key of map.keys()) if (!allowed.includes(key)) usage(`${what}: unknown option '${key}' (known: ${allowed.join(', ')})`);
}

function parseDisk(value: string): DiskRequest | 'none' {
  if (value === 'none') return 'none';
  const m = parseSubopts(value, 'path');
  onlyKeys(m, ['path', 'size', 'format', 'bus', 'device', 'sparse', 'cache'], '--disk');
  const format = m.get('format');
  if (format !== undefined && format !== 'qcow2' && format !== 'raw') usage(`--disk format=${format}: use qcow2 or raw`);
  const bus = m.get('bus');
  if (bus !== undefined && bus !== 'virtio' && bus !== 'sata' && bus !== 'ide' && bus !== 'scsi') usage(`--disk bus=${bus}: use virtio, sata or ide`);
  const busOpt = bus === undefined ? {} : { bus: bus === 'scsi' ? ('sata' as const) : bus };
  if (m.get('device') !== undefined && m.get('device') !== 'disk') usage('--disk device=: only disks here; use --cdrom for an install ISO');
  const path = m.get('path');
  if (path !== undefined) {
    if (m.has('size')) usage(`--disk path=${path},size=: new disks go to the default pool; give size=N alone (or path= of an existing image)`);
    return { kind: 'existing', path, ...(format ? { format } : {}), ...busOpt } as DiskRequest;
  }
  return { kind: 'new', ...(m.has('size') ? { sizeGiB: number(m.get('size'), '--disk size') } : {}), ...(format ? { format } : {}), ...busOpt } as DiskRequest;
}

function parseNetwork(value: string): NetworkRequest {
  if (value === 'none') return { kind: 'none' };
  const m = parseSubopts(value, 'type');
  onlyKeys(m, ['type', 'bridge', 'network', 'model', 'mac', 'user', 'default'], '--network');
  let type = m.get('type');
  let bridge = m.get('bridge');
  // virt-install also takes `bridge:br0` and `network:default`.
  if (type?.startsWith('bridge:')) [type, bridge] = ['bridge', type.slice(7)];
  if (type?.startsWith('network:')) type = 'network';
  const model = m.get('model');
  const mac = m.get('mac');
  const extra = { ...(model ? { model } : {}), ...(mac ? { mac: mac.toLowerCase() } : {}) };
  if (bridge !== undefined || type === 'bridge') {
    if (!bridge) usage('--network bridge: name the bridge (bridge=xenbr0)');
    return { kind: 'bridge', bridge: bridge!, ...extra };
  }
  if (type === undefined || type === 'user' || type === 'default' || type === 'network' || m.has('network')) return { kind: 'nat', ...extra };
  return usage(`--network ${value}: use user (NAT), bridge=NAME or none`);
}

function parseBoot(value: string): InstallSource | undefined {
  const m = parseSubopts(value, 'order');
  const kernel = m.get('kernel');
  if (kernel === undefined) {
    // Boot orders (--boot hd,cdrom) are decided by the install method here.
    if (m.has('initrd') || m.has('kernel_args')) usage('--boot initrd=/kernel_args= need kernel=');
    return undefined;
  }
  onlyKeys(m, ['kernel', 'initrd', 'kernel_args', 'cmdline'], '--boot');
  const initrd = m.get('initrd');
  const args = m.get('kernel_args') ?? m.get('cmdline');
  return { kind: 'kernel', kernel, ...(initrd ? { initrd } : {}), ...(args ? { args } : {}) };
}

export function parseVirtInstallArgs(argv: string[]): VirtInstallArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  let printConfig: VirtInstallArgs['printConfig'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const key = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (key === '--print-config' || key === '--print-xml') {
      const v = eq > 0 ? arg.slice(eq + 1) : 'final';
      if (v !== 'final' && v !== 'install' && v !== '1' && v !== '2') usage(`${key}=${v}: use ${key} or ${key}=install`);
      printConfig = v === 'install' || v === '1' ? 'install' : 'final';
      continue;
    }
    if (FLAGS.has(key)) {
      if (eq > 0 && arg.startsWith('--')) usage(`${key} takes no value`);
      flags.add(key);
    } else if (VALUED.has(key)) {
      const value = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) usage(`option ${key} needs a value`);
      values.set(key, [...(values.get(key) ?? []), value!]);
    } else usage(`unrecognized argument: ${arg}`);
  }
  const one = (...keys: string[]): string | undefined => {
    const all = keys.flatMap((k) => values.get(k) ?? []);
    if (all.length > 1) usage(`${keys[0]} was given more than once`);
    return all[0];
  };
  const help = flags.has('--help') || flags.has('-h');
  const osVariantRaw = one('--os-variant', '--osinfo');
  // `--os-variant debian12`, or the key form: `name=debian12`, `short-id=debian12`, `detect=on`.
  const osOpts = osVariantRaw === undefined ? undefined : parseSubopts(osVariantRaw, 'name');
  const osVariant = osOpts && (osOpts.get('name') ?? osOpts.get('short-id') ?? osOpts.get('id') ?? (osOpts.get('detect') === 'on' ? 'detect' : undefined));
  const listOs = osVariant === 'list';
  const base = { help, listOs, dryRun: flags.has('--dry-run') || printConfig !== undefined, printConfig, autoconsole: !flags.has('--noautoconsole') };
  const name = one('--name', '-n');
  if (help || listOs) return { ...base, description: { name: name ?? '', source: { kind: 'pxe' }, disks: [], network: { kind: 'nat' }, graphics: 'vnc' } };
  if (!name) usage('--name is required');

  const cdrom = one('--cdrom', '-c');
  const location = one('--location', '-l');
  const bootSource = one('--boot') !== undefined ? parseBoot(one('--boot')!) : undefined;
  const extraArgs = one('--extra-args', '-x');
  const sources: InstallSource[] = [];
  if (cdrom !== undefined) sources.push({ kind: 'cdrom', path: cdrom });
  if (location !== undefined) sources.push({ kind: 'location', url: location, ...(extraArgs !== undefined ? { extraArgs } : {}) });
  if (flags.has('--import')) sources.push({ kind: 'import' });
  if (flags.has('--pxe')) sources.push({ kind: 'pxe' });
  if (bootSource) sources.push(bootSource);
  if (sources.length === 0) usage('an install method is required: --cdrom, --location, --import, --pxe or --boot kernel=...');
  if (sources.length > 1) usage('give only one install method (--cdrom, --location, --import, --pxe, --boot kernel=)');
  if (extraArgs !== undefined && location === undefined) usage('--extra-args only works with --location (use --boot kernel_args= for a kernel)');
  const source = sources[0]!;

  let disks: DiskRequest[] = [];
  const diskValues = values.get('--disk') ?? [];
  const parsedDisks = diskValues.map(parseDisk);
  if (parsedDisks.includes('none')) {
    if (parsedDisks.length > 1) usage('--disk none cannot be combined with other --disk options');
  } else if (parsedDisks.length > 0) {
    disks = parsedDisks as DiskRequest[];
  } else if (source.kind === 'cdrom' || source.kind === 'location' || source.kind === 'pxe') {
    // As virt-install: a new disk of the OS's recommended size.
    disks = [{ kind: 'new' }];
  }

  const networks = values.get('--network') ?? values.get('-w') ?? [];
  if (networks.length > 1) usage('one --network per domain for now');
  const network: NetworkRequest = networks[0] ? parseNetwork(networks[0]) : { kind: 'nat' };
  let graphics: 'vnc' | 'none' = 'vnc';
  const g = one('--graphics');
  if (flags.has('--nographics')) graphics = 'none';
  if (g !== undefined) {
    const type = parseSubopts(g, 'type').get('type');
    if (type === 'none') graphics = 'none';
    else if (type === 'vnc' || type === 'default') graphics = 'vnc';
    else usage(`--graphics ${g}: use vnc or none (SPICE is not supported)`);
  }
  const memoryRaw = one('--memory', '--ram', '-r');
  const vcpusRaw = one('--vcpus');
  const memory = memoryRaw === undefined ? undefined : number(parseSubopts(memoryRaw, 'memory').get('memory') ?? parseSubopts(memoryRaw, 'memory').get('currentMemory'), '--memory');
  const vcpus = vcpusRaw === undefined ? undefined : number(parseSubopts(vcpusRaw, 'vcpus').get('vcpus'), '--vcpus');
  if (memory !== undefined && !Number.isInteger(memory)) usage('--memory: give whole MiB');
  if (vcpus !== undefined && !Number.isInteger(vcpus)) usage('--vcpus: give a whole number');
  const description = one('--description');
  return {
    ...base,
    description: {
      name: name!,
      ...(memory !== undefined ? { memory } : {}),
      ...(vcpus !== undefined ? { vcpus } : {}),
      ...(osVariant !== undefined ? { osVariant } : {}),
      source,
      disks,
      network,
      graphics,
      ...(description !== undefined ? { description } : {}),
    },
  };
}

export const VIRT_INSTALL_USAGE = `usage: virt-install --name NAME --memory MiB [options]

Create a domain: an xm config in <config>/domains/NAME.cfg and its disks in <data>/images.

Install method (one of):
  --cdrom PATH                 boot an install ISO (attached as a CD-ROM)
  --location URL               fetch the installer kernel+initrd of a network tree (Debian/Ubuntu mirror,
                               .treeinfo trees such as Fedora's); boots from disk after the install
  --extra-args ARGS            kernel command line for --location (console=ttyS0 for a serial install)
  --import                     the first --disk already holds an installed system (raw or qcow2, detected)
  --boot kernel=PATH,initrd=PATH,kernel_args=ARGS   direct kernel boot, every time
  --pxe                        boot from the network
Options:
  --name, -n NAME              domain name
  --memory MiB                 memory (default: the OS's recommendation)
  --vcpus N                    virtual CPUs (default: the OS's recommendation)
  --os-variant ID|detect|generic   OS from the catalogue (--osinfo list shows them); default: detect
  --disk size=GiB[,format=qcow2|raw][,bus=virtio|sata|ide]   a new disk in the default pool
  --disk path=PATH[,format=raw|qcow2][,bus=...]               an existing image or block device
  --disk none                  no disk
  --network user|bridge=BR|none[,model=virtio|e1000|...][,mac=MAC]   default: user (NAT)
  --graphics vnc|none          default: vnc
  --description TEXT
  --noautoconsole              do not attach the serial console (it is attached with --graphics none)
  --dry-run                    check everything, create nothing
  --print-config[=install]     print the xm config (the definition, or the installer run's) and create nothing
`;
