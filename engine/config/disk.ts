// `disk = [...]` entries. Two syntaxes are in the wild and both are read by one scanner, the way
// xl's own parser (tools/libs/util/libxlu_disk_l.l) does it:
//   xm:  "<prefix>:<target>,<vdev>[:cdrom],<mode>"            e.g. "tap:aio:/img/a.img,xvda,w"
//   xl:  "[target],[format],[vdev],[access]" plus key=value    e.g. "format=qcow2,vdev=xvda,target=/x"
// Items without '=' fill the positional slots still free, in order; `target=` eats the rest of the
// string so paths with commas can be written.

import { SpecError } from './errors.js';
import type { DiskAccess, DiskFormat, DiskSpec } from './types.js';

export const DISK_FORMATS: readonly DiskFormat[] = ['raw', 'qcow2', 'qcow', 'vmdk', 'vdi', 'vhd'];

const SUPPORTED_BACKENDS = "use phy:, file:, tap:aio:/tap:qcow2: or nbd:";

const NBD_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/** `nbd:<host> <port>` as Xen's block-nbd script took it; also `<host>:<port>`. */
export function parseNbdTarget(target: string): { host: string; port: number } | { error: string } {
  const m = /^(\S+?)(?:[ :]|\s+)(\d{1,5})$/.exec(target.trim());
  if (!m) return { error: `nbd target '${target}' must be '<host> <port>', as in nbd:192.168.0.5 20004` };
  const host = m[1] as string;
  const port = Number(m[2]);
  if (!NBD_HOST.test(host)) return { error: `nbd host '${host}' is not a host name or address` };
  if (port < 1 || port > 65535) return { error: `nbd port ${port} is not between 1 and 65535` };
  return { host, port };
}

// Prefixes after `tap:` (and, as xl allows, on their own) that name the image format.
const FORMAT_PREFIXES: Record<string, DiskFormat> = {
  raw: 'raw',
  qcow: 'qcow',
  qcow2: 'qcow2',
  vmdk: 'vmdk',
  vdi: 'vdi',
  vhd: 'vhd',
};

const VDEV = /^(hd[a-z]|sd[a-z]{1,2}|xvd[a-z]{1,3})(?:[1-9][0-9]?)?$/;
const VDEV_LIKE = /^(?:ioemu:)?(?:(?:hd|sd|xvd)[a-z]+[0-9]*|[0-9]+)(?::[a-z]+)?$/;

type Backend = DiskSpec['backend'];

function setOnce<T>(fail: (r: string) => never, what: string, current: T | undefined, value: T): T {
  if (current !== undefined) fail(`${what} is given twice`);
  return value;
}

function parseAccess(fail: (r: string) => never, s: string): DiskAccess {
  switch (s) {
    case 'r':
    case 'ro':
      return 'r';
    case '':
    case 'w':
    case 'rw':
      return 'w';
    case 'w!':
      return 'w!';
    default:
      return fail(`unknown access mode '${s}' (use r, w or w!)`);
  }
}

function parseFormat(fail: (r: string) => never, s: string): DiskFormat {
  if (s === '') return 'raw';
  if ((DISK_FORMATS as readonly string[]).includes(s)) return s as DiskFormat;
  return fail(`unknown disk format '${s}' (use ${DISK_FORMATS.join(', ')})`);
}

function normaliseVdev(fail: (r: string) => never, v: string): string {
  // `ioemu:hda` is how xm wrote emulated (HVM) disks; the emulation is our only kind anyway.
  const name = v.startsWith('ioemu:') ? v.slice('ioemu:'.length) : v;
  if (/^[0-9]+$/.test(name)) return name;
  const m = VDEV.exec(name);
  if (!m) return fail(`'${v}' is not a virtual device name; use e.g. xvda, hda, sda or a device number`);
  return m[1] as string;
}

function vdevPartition(v: string): number | undefined {
  const m = /[a-z]([1-9][0-9]?)$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

export function parseDiskSpec(spec: string): DiskSpec {
  const fail = (reason: string): never => {
    throw new SpecError('disk', spec, reason);
  };
  if (spec.trim() === '') fail('the spec is empty; write e.g. "phy:/dev/vg/lv,xvda,w" or "file:/img/a.img,xvda,w"');
  if (/[\0\n\r]/.test(spec)) fail('it must not contain a newline or NUL character');

  let target: string | undefined;
  let format: DiskFormat | undefined;
  let vdev: string | undefined;
  let access: DiskAccess | undefined;
  let cdrom: boolean | undefined;
  let partition: number | undefined;
  let backend: Backend | undefined;
  let hadPrefix = false;
  let slot = 0; // next positional: 0 target, 1 format, 2 vdev, 3 access

  const setVdevWithType = (item: string): void => {
    const colon = item.lastIndexOf(':');
    if (colon >= 0 && !item.endsWith(':') && item.slice(0, colon) !== 'ioemu') {
      const type = item.slice(colon + 1);
      if (type === 'cdrom') cdrom = true;
      else if (type === 'disk') cdrom ??= false;
      else fail(`unknown device type ':${type}' after the vdev (only :cdrom)`);
      item = item.slice(0, colon);
    }
    vdev = setOnce(fail, 'vdev', vdev, normaliseVdev(fail, item));
    partition = vdevPartition(item);
  };

  const takeTarget = (item: string): void => {
    let rest = item;
    const prefixes: string[] = [];
    for (;;) {
      const m = /^([a-z][a-z0-9]*):/.exec(rest);
      if (!m) break;
      const p = m[1] as string;
      const path = [...prefixes, p].join(':') + ':';
      if (p === 'phy' || p === 'file') {
        if (prefixes.length > 0) fail(`disk backend '${path}' is not supported; ${SUPPORTED_BACKENDS}`);
        backend = p;
      } else if (p === 'tap' || p === 'tap2' || p === 'tapdisk' || p === 'aio' || p === 'sync') {
        // aio/sync were blktap's raw drivers; a format prefix may still follow (tap:aio:qcow:).
        if (backend !== undefined && backend !== 'tap') fail(`disk backend '${path}' is not supported; ${SUPPORTED_BACKENDS}`);
        backend = 'tap';
      } else if (p === 'nbd' && prefixes.length === 0) {
        backend = 'nbd';
        // The rest is '<host> <port>': no more prefixes to read.
        prefixes.push(p);
        rest = rest.slice(m[0].length);
        break;
      } else if (p === 'ioemu') {
        // xl documents it as a prefix to ignore.
      } else if (FORMAT_PREFIXES[p] !== undefined) {
        if (backend === 'phy' || backend === 'file' || format !== undefined) {
          fail(`disk backend '${path}' is not supported; ${SUPPORTED_BACKENDS}`);
        }
        format = FORMAT_PREFIXES[p];
      } else {
        // iscsi:, nbd:, drbd:, ... ran a hotplug script in Xen; there is no such thing here.
        fail(`disk backend '${path}' is not supported; ${SUPPORTED_BACKENDS}`);
      }
      prefixes.push(p);
      rest = rest.slice(m[0].length);
    }
    hadPrefix = prefixes.length > 0;
    if (backend === 'phy' && rest !== '' && !rest.startsWith('/')) rest = `/dev/${rest}`;
    target = rest;
  };

  const positional = (raw: string): void => {
    // Only a target may end in blanks (a file name can); for the short fields they are typos.
    const item = slot === 0 ? raw : raw.trimEnd();
    // Skip slots already filled by name, as xl does.
    if (slot === 1 && (format !== undefined || hadPrefix)) slot = 2;
    if (slot === 2 && vdev !== undefined) slot = 3;
    if (slot === 3 && access !== undefined) slot = 4;
    switch (slot) {
      case 0:
        takeTarget(item);
        slot = 1;
        return;
      case 1:
        if (item === '' || (DISK_FORMATS as readonly string[]).includes(item)) {
          format = parseFormat(fail, item);
          slot = 2;
        } else if (VDEV_LIKE.test(item)) {
          // The xm form without a prefix ("/img/a.img,xvda,w"): no format slot.
          setVdevWithType(item);
          slot = 3;
        } else {
          fail(`'${item}' is neither a disk format (${DISK_FORMATS.join(', ')}) nor a virtual device such as xvda`);
        }
        return;
      case 2:
        if (item !== '') setVdevWithType(item);
        slot = 3;
        return;
      case 3:
        access = parseAccess(fail, item);
        slot = 4;
        return;
      default:
        fail(`too many comma-separated parts ('${item}' is left over)`);
    }
  };

  const keyword = (key: string, value: string): void => {
    switch (key) {
      case 'format':
        format = setOnce(fail, 'format', format, parseFormat(fail, value));
        return;
      case 'vdev':
        if (value !== '') {
          vdev = setOnce(fail, 'vdev', vdev, normaliseVdev(fail, value));
          partition = vdevPartition(value);
        }
        return;
      case 'access':
        access = setOnce(fail, 'access', access, parseAccess(fail, value));
        return;
      case 'devtype':
        if (value === 'cdrom') cdrom = true;
        else if (value === 'disk') cdrom = false;
        else fail(`unknown devtype '${value}' (use devtype=cdrom or devtype=disk)`);
        return;
      case 'backendtype':
        if (value === 'phy') backend = 'phy';
        else if (value === 'tap') backend = 'tap';
        // qdisk is QEMU's own disk backend: an image file, which is what 'file' means here.
        else if (value === 'qdisk' || value === 'standalone') backend = 'file';
        else fail(`unknown backendtype '${value}' (use phy, tap or qdisk)`);
        return;
      case 'specification':
        if (value !== 'xen' && value !== 'virtio') fail(`unknown specification '${value}' (use xen or virtio)`);
        return;
      case 'grant_usage':
        if (value !== '0' && value !== '1') fail(`grant_usage must be 0 or 1, got '${value}'`);
        return;
      case 'script':
        return fail(`disk scripts (script=${value}) are not supported; ${SUPPORTED_BACKENDS}`);
      case 'backend':
        return fail(`driver domains (backend=${value}) are not supported; remove backend=`);
      case 'colo-host':
      case 'colo-port':
      case 'colo-export':
      case 'active-disk':
      case 'hidden-disk':
        return fail(`COLO replication (${key}=) is not supported`);
      default:
        fail(`unknown disk option '${key}=' (known: target=, format=, vdev=, access=, devtype=)`);
    }
  };

  let rest = spec;
  while (rest.length > 0) {
    rest = rest.replace(/^[ \t]+/, '');
    if (rest.startsWith('target=')) {
      // An empty positional target may be followed by target=, as xl allows.
      if (target !== undefined && target !== '') fail('the target is given twice');
      target = rest.slice('target='.length);
      slot = Math.max(slot, 1);
      break;
    }
    const comma = rest.indexOf(',');
    const item = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    const kv = /^([a-z][a-z0-9_-]*)=(.*)$/s.exec(item);
    if (kv) keyword(kv[1] as string, kv[2] as string);
    else if (item === 'cdrom') cdrom = true;
    else if (['direct-io-safe', 'discard', 'no-discard', 'trusted', 'untrusted', 'no-colo'].includes(item)) {
      // Advisory hints for Xen's block backends; QEMU makes its own choices.
    } else if (item === 'colo') fail('COLO replication (colo) is not supported');
    else positional(item);
  }

  if (vdev === undefined) {
    return fail('no virtual device is given; add one, e.g. "file:/img/a.img,xvda,w" or vdev=xvda');
  }
  const devtype = cdrom === true ? 'cdrom' : 'disk';
  // A CD-ROM is read-only whatever the spec says: that is what the drive is.
  const finalAccess: DiskAccess = devtype === 'cdrom' ? 'r' : (access ?? 'w');
  const finalTarget = target ?? '';
  if (finalTarget === '') {
    if (devtype !== 'cdrom') {
      fail(
        finalAccess === 'r'
          ? 'no target path is given; only a cdrom drive may be empty'
          : 'a writable disk needs a target path',
      );
    }
  } else if (backend === 'nbd') {
    const nbd = parseNbdTarget(finalTarget);
    if ('error' in nbd) fail(nbd.error);
  } else if (!finalTarget.startsWith('/')) {
    fail(`the target '${finalTarget}' must be an absolute path (starting with /)`);
  }
  const finalFormat = format ?? 'raw';
  let finalBackend: Backend;
  if (backend === 'nbd') {
    if (finalFormat !== 'raw') fail('an nbd: export is read as a raw disk; remove the format');
    finalBackend = 'nbd';
  } else if (finalFormat !== 'raw') {
    if (backend === 'phy') fail(`phy: devices are raw block devices; a ${finalFormat} image needs tap:${finalFormat}: or file`);
    // Non-raw images were blktap's job in Xen; one spelling keeps the spec canonical.
    finalBackend = 'tap';
  } else {
    finalBackend = backend ?? (finalTarget.startsWith('/dev/') ? 'phy' : 'file');
  }
  const out: DiskSpec = {
    backend: finalBackend,
    target: finalTarget,
    format: finalFormat,
    vdev,
    devtype,
    access: finalAccess,
  };
  if (partition !== undefined) out.partition = partition;
  return out;
}

/** The xm form where it can say it exactly; xl's `target=` form for paths it cannot. */
export function formatDiskSpec(d: DiskSpec): string {
  const vdev = d.devtype === 'cdrom' ? `${d.vdev}:cdrom` : d.vdev;
  if (d.backend === 'nbd') return `nbd:${d.target},${vdev},${d.access}`;
  const xmSafe = !d.target.includes(',') && (d.target === '' || d.target.startsWith('/'));
  if (xmSafe) {
    if (d.target === '' && d.backend === 'file' && d.format === 'raw') return `,${vdev},${d.access}`;
    let prefix: string;
    if (d.format !== 'raw') prefix = `tap:${d.format}:`;
    else if (d.backend === 'phy') prefix = 'phy:';
    else if (d.backend === 'tap') prefix = 'tap:aio:';
    else prefix = 'file:';
    return `${prefix}${d.target},${vdev},${d.access}`;
  }
  const backendtype = d.backend === 'file' ? 'qdisk' : d.backend;
  const devtype = d.devtype === 'cdrom' ? ',devtype=cdrom' : '';
  return `format=${d.format},vdev=${d.vdev},access=${d.access}${devtype},backendtype=${backendtype},target=${d.target}`;
}
