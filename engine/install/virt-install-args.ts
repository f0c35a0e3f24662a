// virt-install's command line → an install description. Pure, so every option is unit-tested;
// the CLI (engine/cli/virt-install.ts) sends the description to xend.

import { InstallError } from './errors.js';
import type { DiskRequest, InstallDescription, InstallSource, NetworkRequest } from './types.js';

export interface VirtInstallArgs {
  description: InstallDescription;
  dryRun: boolean;
  /** --print-config: print the definition (or, with =install, the installer run's) and create nothing. */
  printConfig?: 'final' | 'install';
  /** Attach a console after starting: false for --noautoconsole / --autoconsole none. */
  autoconsole: boolean;
  /** `--autoconsole text|graphical`; `default` picks text for --graphics none, graphical otherwise. */
  consoleMode: 'default' | 'text' | 'graphical';
  /** --osinfo list / --os-variant list */
  listOs: boolean;
  help: boolean;
  /** Options accepted whose effect differs from virt-install's on libvirt: said, never silent. */
  warnings: string[];
}

// Every option virt-install users write that Dom0 accepts, with its aliases. Anything else is
// refused by name ("unrecognized arguments"), as virt-install's own argparse does.
const VALUED: Record<string, string> = {
  '--name': '--name', '-n': '--name',
  '--memory': '--memory', '--ram': '--memory', '-r': '--memory',
  '--vcpus': '--vcpus',
  '--disk': '--disk', '--file': '--file', '-f': '--file', '--file-size': '--file-size', '-s': '--file-size',
  '--cdrom': '--cdrom', '-c': '--cdrom', '--location': '--location', '-l': '--location',
  '--boot': '--boot', '--network': '--network', '-w': '--network', '--bridge': '--bridge', '-b': '--bridge', '--mac': '--mac', '-m': '--mac',
  '--graphics': '--graphics', '--os-variant': '--os-variant', '--osinfo': '--os-variant', '--os-type': '--os-type',
  '--extra-args': '--extra-args', '-x': '--extra-args', '--description': '--description',
  '--connect': '--connect', '--console': '--console', '--serial': '--serial', '--autoconsole': '--autoconsole',
  '--virt-type': '--virt-type', '--arch': '--arch', '--check': '--check',
};
const FLAGS: Record<string, string> = {
  '--import': '--import', '--pxe': '--pxe', '--noautoconsole': '--noautoconsole', '--dry-run': '--dry-run',
  '--help': '--help', '-h': '--help', '--nographics': '--nographics', '--nodisks': '--nodisks', '--nonetworks': '--nonetworks',
  '--hvm': '--hvm', '-v': '--hvm', '--paravirt': '--paravirt', '-p': '--paravirt', '--livecd': '--livecd',
  '--vnc': '--vnc', '--accelerate': '--accelerate', '--noapic': '--noapic', '--noacpi': '--noacpi',
  '--nonsparse': '--nonsparse', '--force': '--force', '--quiet': '--quiet', '-q': '--quiet',
};

/** argparse, which virt-install uses, takes any unambiguous prefix of a long option (`--dry`). */
function longOption(raw: string): string {
  if (!raw.startsWith('--') || raw in VALUED || raw in FLAGS) return raw;
  const matches = [...Object.keys(VALUED), ...Object.keys(FLAGS), '--print-config', '--print-xml'].filter((k) => k.startsWith(raw));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) usage(`ambiguous option: ${raw} could match ${matches.join(', ')}`);
  return raw;
}

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
  for (const key of map.keys()) if (!allowed.includes(key)) usage(`${what}: unknown or unsupported sub-option '${key}' (Dom0 knows: ${allowed.join(', ')})`);
}

const yes = (v: string | undefined): boolean => v !== undefined && ['on', 'yes', 'true', '1'].includes(v.toLowerCase());

function parseDisk(value: string, warnings: string[]): DiskRequest | 'none' {
  if (value === 'none') return 'none';
  const m = parseSubopts(value, 'path');
  onlyKeys(m, ['path', 'size', 'format', 'bus', 'device', 'sparse', 'readonly', 'ro', 'perms', 'pool'], '--disk');
  const format = m.get('format');
  if (format !== undefined && format !== 'qcow2' && format !== 'raw') usage(`--disk format=${format}: use qcow2 or raw`);
  const bus = m.get('bus');
  if (bus !== undefined && !['virtio', 'sata', 'ide', 'scsi'].includes(bus)) usage(`--disk bus=${bus}: use virtio, sata, scsi or ide`);
  if (bus === 'scsi') warnings.push('--disk bus=scsi: the disk is attached on SATA (AHCI); the guest sees it as sdX just the same');
  const busOpt = bus === undefined ? {} : { bus: bus === 'scsi' ? ('sata' as const) : (bus as 'virtio' | 'sata' | 'ide') };
  const pool = m.get('pool');
  if (pool !== undefined && pool !== 'default') usage(`--disk pool=${pool}: new disks go to the default pool (<data>/images); drop pool= or give path=`);
  const sparse = m.get('sparse');
  if (sparse !== undefined && !['yes', 'no', 'on', 'off', 'true', 'false'].includes(sparse)) usage(`--disk sparse=${sparse}: use yes or no`);
  const perms = m.get('perms');
  if (perms !== undefined && perms !== 'ro' && perms !== 'rw' && perms !== 'sh') usage(`--disk perms=${perms}: use ro, rw or sh`);
  const readonly = yes(m.get('readonly')) || yes(m.get('ro')) || perms === 'ro';
  const device = m.get('device') ?? 'disk';
  const path = m.get('path');
  if (device === 'cdrom') {
    if (m.has('size')) usage('--disk device=cdrom: a CD-ROM has no size=');
    return path === undefined ? { kind: 'cdrom' } : { kind: 'cdrom', path };
  }
  if (device !== 'disk') usage(`--disk device=${device}: use disk or cdrom`);
  if (path !== undefined && !m.has('size')) {
    return { kind: 'existing', path, ...(format ? { format } : {}), ...busOpt, ...(readonly ? { readonly } : {}) } as DiskRequest;
  }
  if (readonly) usage('--disk readonly: a new disk is written by the installer; make it read-only later');
  return {
    kind: 'new',
    ...(path !== undefined ? { path } : {}),
    ...(m.has('size') ? { sizeGiB: number(m.get('size'), '--disk size') } : {}),
    ...(format ? { format } : {}),
    ...busOpt,
  } as DiskRequest;
}

function parseNetwork(value: string): NetworkRequest {
  if (value === 'none') return { kind: 'none' };
  const m = parseSubopts(value, 'type');
  onlyKeys(m, ['type', 'bridge', 'network', 'model', 'model.type', 'mac', 'mac.address', 'user', 'default'], '--network');
  let type = m.get('type');
  let bridge = m.get('bridge');
  // virt-install also takes `bridge:br0` and `network:default`.
  if (type?.startsWith('bridge:')) [type, bridge] = ['bridge', type.slice(7)];
  if (type?.startsWith('network:')) type = 'network';
  const model = m.get('model') ?? m.get('model.type');
  let mac = m.get('mac') ?? m.get('mac.address');
  // virt-install's RANDOM (and an empty mac=) means "make one up", which is the default.
  if (mac === 'RANDOM' || mac === '') mac = undefined;
  const extra = { ...(model ? { model } : {}), ...(mac ? { mac: mac.toLowerCase() } : {}) };
  if (bridge !== undefined || type === 'bridge') {
    if (!bridge) usage('--network bridge: name the bridge (bridge=xenbr0)');
    return { kind: 'bridge', bridge: bridge!, ...extra };
  }
  if (type === undefined || type === 'user' || type === 'default' || type === 'network' || m.has('network')) return { kind: 'nat', ...extra };
  return usage(`--network ${value}: use user (NAT), network=default, bridge=NAME or none`);
}

function parseBoot(value: string, warnings: string[]): InstallSource | undefined {
  const m = parseSubopts(value, 'order');
  if (m.has('uefi') || m.get('order') === 'uefi' || m.has('loader') || m.has('firmware')) {
    usage('--boot uefi: UEFI firmware is not supported yet; guests boot with BIOS (SeaBIOS): drop uefi');
  }
  const kernel = m.get('kernel');
  if (kernel === undefined) {
    onlyKeys(m, ['order', 'hd', 'cdrom', 'network', 'fd', 'menu', 'useserial'], '--boot');
    if (m.has('initrd') || m.has('kernel_args')) usage('--boot initrd=/kernel_args= need kernel=');
    // `--boot cdrom,hd,menu=on`: the install method already boots the media first and the disk after.
    warnings.push(`--boot ${value}: the boot order follows the install method (install media first, then the disk)`);
    return undefined;
  }
  onlyKeys(m, ['kernel', 'initrd', 'kernel_args', 'cmdline'], '--boot');
  const initrd = m.get('initrd');
  const args = m.get('kernel_args') ?? m.get('cmdline');
  return { kind: 'kernel', kernel, ...(initrd ? { initrd } : {}), ...(args ? { args } : {}) };
}

/** `--vcpus 4,maxvcpus=8,sockets=1,cores=4,threads=1` and `--vcpus sockets=2,cores=2`. */
function parseVcpus(value: string, warnings: string[]): { vcpus?: number; maxVcpus?: number } {
  const m = parseSubopts(value, 'vcpus');
  onlyKeys(m, ['vcpus', 'maxvcpus', 'sockets', 'dies', 'cores', 'threads', 'placement', 'cpuset'], '--vcpus');
  if (m.has('cpuset')) usage('--vcpus cpuset=: pin with xm vcpu-pin or cpus = "..." in the config after creating the domain');
  const topo = ['sockets', 'dies', 'cores', 'threads'].filter((k) => m.has(k));
  const product = topo.reduce((p, k) => p * number(m.get(k), `--vcpus ${k}`), 1);
  let vcpus = m.has('vcpus') ? number(m.get('vcpus'), '--vcpus') : undefined;
  let maxVcpus = m.has('maxvcpus') ? number(m.get('maxvcpus'), '--vcpus maxvcpus') : undefined;
  if (topo.length > 0) {
    if (maxVcpus === undefined && vcpus === undefined) vcpus = product;
    const total = maxVcpus ?? vcpus ?? product;
    if (total !== product) usage(`--vcpus: ${topo.map((k) => `${k}=${m.get(k)}`).join(',')} make ${product} vCPUs, not ${total}`);
    warnings.push(`--vcpus ${topo.join('/')}: the guest gets ${product} vCPUs; Dom0 does not set a CPU topology`);
  }
  if (vcpus !== undefined && !Number.isInteger(vcpus)) usage('--vcpus: give a whole number');
  if (maxVcpus !== undefined && vcpus !== undefined && maxVcpus < vcpus) usage(`--vcpus maxvcpus=${maxVcpus} is less than ${vcpus}`);
  if (maxVcpus !== undefined && maxVcpus === vcpus) maxVcpus = undefined;
  return { ...(vcpus !== undefined ? { vcpus } : {}), ...(maxVcpus !== undefined ? { maxVcpus } : {}) };
}

/** `--memory 1024,maxmemory=2048` (also `memory=`, `currentMemory=`). */
function parseMemory(value: string): { memory?: number; maxMemory?: number } {
  const m = parseSubopts(value, 'memory');
  onlyKeys(m, ['memory', 'currentMemory', 'maxmemory', 'maxMemory'], '--memory');
  const memRaw = m.get('currentMemory') ?? m.get('memory');
  const memory = memRaw === undefined ? undefined : number(memRaw, '--memory');
  const maxRaw = m.get('maxmemory') ?? m.get('maxMemory') ?? (m.has('currentMemory') ? m.get('memory') : undefined);
  const maxMemory = maxRaw === undefined ? undefined : number(maxRaw, '--memory maxmemory');
  if (memory !== undefined && !Number.isInteger(memory)) usage('--memory: give whole MiB');
  if (maxMemory !== undefined && memory !== undefined && maxMemory < memory) usage(`--memory maxmemory=${maxMemory} is less than ${memory}`);
  return { ...(memory !== undefined ? { memory } : {}), ...(maxMemory !== undefined && maxMemory !== memory ? { maxMemory } : {}) };
}

function parseGraphics(value: string, warnings: string[]): { graphics: 'vnc' | 'none'; vnc?: InstallDescription['vnc'] } {
  const m = parseSubopts(value, 'type');
  const type = m.get('type');
  if (type === 'none') {
    onlyKeys(m, ['type'], '--graphics none');
    return { graphics: 'none' };
  }
  if (type === 'spice') usage('--graphics spice: Dom0 shows guests over VNC; use --graphics vnc');
  if (type !== undefined && type !== 'vnc' && type !== 'default') usage(`--graphics ${value}: use vnc or none`);
  onlyKeys(m, ['type', 'password', 'passwd', 'keymap', 'listen', 'port', 'autoport'], '--graphics');
  const port = m.get('port');
  if ((port !== undefined && port !== '-1') || m.has('listen')) {
    warnings.push('--graphics port=/listen=: Dom0 serves the screen through its own authenticated console relay, not a TCP port (xm console, the Console tab)');
  }
  const password = m.get('password') ?? m.get('passwd');
  const keymap = m.get('keymap');
  const listen = m.get('listen');
  const vnc = { ...(password ? { password } : {}), ...(keymap ? { keymap } : {}), ...(listen ? { listen } : {}) };
  return Object.keys(vnc).length > 0 ? { graphics: 'vnc', vnc } : { graphics: 'vnc' };
}

/** `--connect URI`: this virt-install creates domains on the local Dom0 engine. */
function checkConnect(uri: string): void {
  if (/^xen:\/\/\/?(system)?$/.test(uri) || uri === 'xen:' || uri === 'xen:///') return;
  usage(`--connect ${uri}: this virt-install creates domains on this host's Dom0 engine (xen:///); connections to other hosts and to libvirt are not supported yet`);
}

export function parseVirtInstallArgs(argv: string[]): VirtInstallArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const warnings: string[] = [];
  let printConfig: VirtInstallArgs['printConfig'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const raw = longOption(arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg);
    if (raw === '--print-config' || raw === '--print-xml') {
      const v = eq > 0 ? arg.slice(eq + 1) : 'final';
      if (v !== 'final' && v !== 'install' && v !== '1' && v !== '2') usage(`${raw}=${v}: use ${raw} or ${raw}=install`);
      printConfig = v === 'install' || v === '1' ? 'install' : 'final';
      continue;
    }
    const flag = FLAGS[raw];
    const valued = VALUED[raw];
    if (flag !== undefined) {
      if (eq > 0 && arg.startsWith('--')) usage(`${raw} takes no value`);
      flags.add(flag);
    } else if (valued !== undefined) {
      const value = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) usage(`option ${raw} needs a value`);
      values.set(valued, [...(values.get(valued) ?? []), value!]);
    } else usage(`unrecognized arguments: ${arg}`);
  }
  const one = (key: string): string | undefined => {
    const all = values.get(key) ?? [];
    if (all.length > 1) usage(`${key} was given more than once`);
    return all[0];
  };
  const help = flags.has('--help');
  const connect = one('--connect');
  if (connect !== undefined) checkConnect(connect);
  const osVariantRaw = one('--os-variant');
  // `--os-variant debian12`, or the key form: `name=debian12`, `short-id=debian12`, `detect=on`.
  const osOpts = osVariantRaw === undefined ? undefined : parseSubopts(osVariantRaw, 'name');
  let osVariant = osOpts && (osOpts.get('name') ?? osOpts.get('short-id') ?? osOpts.get('id') ?? (osOpts.get('detect') === 'on' ? 'detect' : undefined));
  if (osVariant === 'none') osVariant = 'generic';
  const osType = one('--os-type');
  if (osType !== undefined) warnings.push(`--os-type is deprecated and does nothing (--os-type ${osType}); --os-variant names the OS`);
  for (const c of values.get('--check') ?? []) {
    onlyKeys(parseSubopts(c, 'all'), ['all', 'path_in_use', 'disk_size', 'path_exists', 'mac_in_use'], '--check');
  }
  if (flags.has('--nonsparse')) warnings.push('--nonsparse: new disks are created sparse (qcow2 and raw alike)');
  const listOs = osVariant === 'list';

  const autoconsoleRaw = one('--autoconsole');
  if (autoconsoleRaw !== undefined && !['text', 'graphical', 'none', 'default'].includes(autoconsoleRaw)) {
    usage(`--autoconsole ${autoconsoleRaw}: use text, graphical or none`);
  }
  const consoleMode = autoconsoleRaw === 'text' || autoconsoleRaw === 'graphical' ? autoconsoleRaw : 'default';
  const autoconsole = !flags.has('--noautoconsole') && autoconsoleRaw !== 'none';
  const base = { help, listOs, dryRun: flags.has('--dry-run') || printConfig !== undefined, printConfig, autoconsole, consoleMode, warnings } as const;
  const name = one('--name');
  if (help || listOs) return { ...base, description: { name: name ?? '', source: { kind: 'pxe' }, disks: [], network: { kind: 'nat' }, graphics: 'vnc' } };
  if (!name) usage('--name is required');

  for (const v of values.get('--console') ?? []) {
    const type = parseSubopts(v, 'type').get('type');
    if (type !== 'pty' && type !== 'default') usage(`--console ${v}: the guest's console is Dom0's serial console (pty); other console types are not supported`);
  }
  for (const v of values.get('--serial') ?? []) {
    if (parseSubopts(v, 'type').get('type') !== 'pty') usage(`--serial ${v}: the guest has one serial port, Dom0's console (pty); other serial types are not supported`);
  }
  const virtType = one('--virt-type');
  if (virtType !== undefined && !['kvm', 'qemu', 'xen', 'hvm'].includes(virtType)) usage(`--virt-type ${virtType}: use kvm or qemu`);
  if (virtType !== undefined || flags.has('--accelerate')) warnings.push('--virt-type/--accelerate: Dom0 uses KVM where it works and TCG otherwise (DOM0_ACCEL sets it)');
  const arch = one('--arch');
  if (arch !== undefined && !['x86_64', 'i686', 'i386', 'amd64'].includes(arch)) usage(`--arch ${arch}: Dom0 runs x86_64 guests (which run i686 systems too)`);
  if (flags.has('--paravirt')) warnings.push('--paravirt: Dom0 guests run under QEMU; a paravirtual (Xen PV) guest gets virtio devices, which Linux drives the same way');
  if (flags.has('--noapic') || flags.has('--noacpi')) usage('--noapic/--noacpi: write apic = 0 / acpi = 0 in the config after creating the domain (xm new)');

  const cdrom = one('--cdrom');
  const location = one('--location');
  const bootRaw = one('--boot');
  const bootSource = bootRaw !== undefined ? parseBoot(bootRaw, warnings) : undefined;
  const extraArgs = one('--extra-args');
  const sources: InstallSource[] = [];
  if (cdrom !== undefined) sources.push({ kind: 'cdrom', path: cdrom });
  if (location !== undefined) sources.push({ kind: 'location', url: location, ...(extraArgs !== undefined ? { extraArgs } : {}) });
  if (flags.has('--import')) sources.push({ kind: 'import' });
  if (flags.has('--pxe')) sources.push({ kind: 'pxe' });
  if (bootSource) sources.push(bootSource);
  if (sources.length === 0) usage('an install method is required: --cdrom, --location, --import, --pxe or --boot kernel=...');
  if (sources.length > 1) usage('give only one install method (--cdrom, --location, --import, --pxe, --boot kernel=)');
  if (extraArgs !== undefined && location === undefined) usage('--extra-args only works with --location (use --boot kernel_args= for a kernel)');
  if (flags.has('--livecd') && cdrom === undefined) usage('--livecd needs --cdrom');
  const source = sources[0]!;

  const diskValues = [...(values.get('--disk') ?? [])];
  // virt-install's old spelling: --file PATH [--file-size GiB].
  const files = values.get('--file') ?? [];
  const sizes = values.get('--file-size') ?? [];
  if (sizes.length > files.length) usage('--file-size needs a --file');
  files.forEach((f, i) => diskValues.push(sizes[i] !== undefined ? `path=${f},size=${sizes[i]}` : `path=${f}`));
  if (flags.has('--nodisks')) {
    if (diskValues.length > 0) usage('--nodisks cannot be combined with --disk');
    diskValues.push('none');
  }
  let disks: DiskRequest[] = [];
  const parsedDisks = diskValues.map((v) => parseDisk(v, warnings));
  if (parsedDisks.includes('none')) {
    if (parsedDisks.length > 1) usage('--disk none cannot be combined with other --disk options');
  } else if (parsedDisks.length > 0) {
    disks = parsedDisks as DiskRequest[];
  } else if (source.kind === 'cdrom' || source.kind === 'location' || source.kind === 'pxe') {
    // As virt-install: a new disk of the OS's recommended size.
    disks = [{ kind: 'new' }];
  }

  const networkValues = [...(values.get('--network') ?? [])];
  // Old spellings: --bridge BR / --mac MAC.
  for (const [i, b] of (values.get('--bridge') ?? []).entries()) {
    const mac = values.get('--mac')?.[i];
    networkValues.push(`bridge=${b}${mac ? `,mac=${mac}` : ''}`);
  }
  const macs = (values.get('--mac') ?? []).slice(values.get('--bridge')?.length ?? 0);
  macs.forEach((mac, i) => {
    // --network network:default --mac RANDOM: the old --mac applies to the n-th --network.
    if (i < networkValues.length) networkValues[i] += `,mac=${mac}`;
    else networkValues.push(`user,mac=${mac}`);
  });
  if (flags.has('--nonetworks')) {
    if (networkValues.length > 0) usage('--nonetworks cannot be combined with --network');
    networkValues.push('none');
  }
  const networks = networkValues.map(parseNetwork);
  if (networks.length > 1 && networks.some((n) => n.kind === 'none')) usage('--network none cannot be combined with other --network options');
  const network: NetworkRequest = networks[0] ?? { kind: 'nat' };

  let graphics: { graphics: 'vnc' | 'none'; vnc?: InstallDescription['vnc'] } = { graphics: 'vnc' };
  const g = one('--graphics');
  if (g !== undefined) graphics = parseGraphics(g, warnings);
  if (flags.has('--nographics')) {
    if (g !== undefined && graphics.graphics !== 'none') usage('--nographics contradicts --graphics');
    graphics = { graphics: 'none' };
  }
  const memoryRaw = one('--memory');
  const mem = memoryRaw === undefined ? {} : parseMemory(memoryRaw);
  const vcpusRaw = one('--vcpus');
  const cpu = vcpusRaw === undefined ? {} : parseVcpus(vcpusRaw, warnings);
  const description = one('--description');
  return {
    ...base,
    description: {
      name: name!,
      ...mem,
      ...cpu,
      ...(osVariant !== undefined ? { osVariant } : {}),
      source,
      disks,
      network,
      ...(networks.length > 1 ? { moreNetworks: networks.slice(1) } : {}),
      ...graphics,
      ...(flags.has('--livecd') ? { liveCd: true } : {}),
      ...(description !== undefined ? { description } : {}),
    },
  };
}

export const VIRT_INSTALL_USAGE = `usage: virt-install --name NAME --memory MiB [options]

Create a domain: an xm config in <config>/domains/NAME.cfg and its disks in <data>/images.
Long options may be abbreviated (--dry for --dry-run). Options Dom0 does not support are refused by
name; accepted options that act differently than on libvirt print a WARNING line.

Install method (one of):
  --cdrom, -c PATH             boot an install ISO (attached as a CD-ROM); --livecd keeps booting it
  --location, -l URL           fetch the installer kernel+initrd of a network tree (Debian/Ubuntu mirror,
                               .treeinfo trees such as Fedora's); boots from disk after the install
  --extra-args, -x ARGS        kernel command line for --location (console=ttyS0 for a serial install)
  --import                     the first --disk already holds an installed system (raw or qcow2, detected)
  --boot kernel=PATH,initrd=PATH,kernel_args=ARGS   direct kernel boot, every time
  --pxe                        boot from the network
Options:
  --name, -n NAME              domain name
  --memory, --ram, -r MiB[,maxmemory=MiB]   memory (default: the OS's recommendation)
  --vcpus N[,maxvcpus=M][,sockets=S,cores=C,threads=T]   virtual CPUs (default: the OS's recommendation)
  --os-variant, --osinfo ID|detect|generic|list   OS from the catalogue; default: detect
  --disk size=GiB[,format=qcow2|raw][,bus=virtio|sata|scsi|ide]   a new disk in the default pool
  --disk path=PATH,size=GiB[,...]   a new disk at PATH
  --disk PATH|path=PATH[,format=raw|qcow2][,bus=...][,readonly=on]   an existing image or block device
  --disk device=cdrom[,path=ISO]   a CD-ROM drive (empty without path); may be repeated
  --disk none, --nodisks       no disk
  --file, -f PATH [--file-size, -s GiB]   virt-install's older spelling of --disk path=PATH[,size=GiB]
  --network user|network=default|bridge=BR|bridge:BR|none[,model=virtio|e1000|...][,mac=MAC|RANDOM]
                               default: user (NAT); repeat for more NICs; --nonetworks for none
  --graphics vnc[,password=PW][,keymap=KM]|none   default: vnc; --nographics = none
  --autoconsole text|graphical|none, --noautoconsole   attach the serial console after starting
  --console pty, --serial pty  the guest's serial console (the only kind)
  --connect xen:///            this host's Dom0 engine (the only connection for now)
  --hvm, --paravirt, --os-type, --virt-type kvm|qemu, --arch x86_64   accepted (said when they change nothing)
  --description TEXT
  --dry-run                    check everything, create nothing
  --print-config[=install]     print the xm config (the definition, or the installer run's) and create nothing
`;
