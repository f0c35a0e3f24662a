// libvirt connection URIs, as virsh -c takes them: `qemu:///system`, `qemu:///session`,
// `qemu+unix:///system?socket=/path`, `qemu+ssh://user@host:port/system?keyfile=...`.
// Only the QEMU driver is managed here; other drivers and transports get a message saying what
// to use instead (nothing is half-added).

import { basename } from 'node:path';
import { hasControlCharacter } from '../common/safe-path.js';
import { LibvirtConnectError } from './errors.js';

export interface LibvirtUri {
  /** The URI as the user wrote it (normalised), for messages and the connection list. */
  uri: string;
  transport: 'unix' | 'ssh';
  /** 'system' or 'session'. */
  mode: 'system' | 'session';
  user?: string;
  host?: string;
  port?: number;
  /** `?socket=`: the daemon's socket on the target host. */
  socket?: string;
  /** `?keyfile=`: private key for SSH. */
  keyfile?: string;
  /** `?known_hosts=`: known_hosts file instead of ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** The name given to the daemon's ConnectOpen: always the local form, e.g. qemu:///system. */
  openName: string;
}

/** Common URIs offered in "Add connection". */
export const commonUris = ['qemu:///system', 'qemu:///session', 'qemu+ssh://root@host/system'] as const;

const otherDrivers: Record<string, string> = {
  xen: 'Xen hosts', lxc: 'LXC containers', vbox: 'VirtualBox', esx: 'VMware ESX', vpx: 'VMware vCenter', vmwarews: 'VMware Workstation',
  vmwareplayer: 'VMware Player', vmwarefusion: 'VMware Fusion', hyperv: 'Hyper-V', bhyve: 'bhyve', openvz: 'OpenVZ', ch: 'Cloud Hypervisor', vz: 'Virtuozzo', test: 'the test driver',
};

const safeSegment = /^[A-Za-z0-9._-]+$/;
const safePath = /^\/[A-Za-z0-9._/+-]*$/;

export function parseLibvirtUri(input: string): LibvirtUri {
  const raw = input.trim();
  const invalid = (why: string): LibvirtConnectError => new LibvirtConnectError(raw, 'invalid-uri', `${raw || '(empty)'} is not a libvirt URI: ${why}. Use e.g. qemu:///system or qemu+ssh://user@host/system.`);
  const m = /^([a-z0-9]+)(?:\+([a-z0-9]+))?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(raw);
  if (!m) throw invalid('expected driver[+transport]://[user@host[:port]]/path');
  const driver = m[1]!.toLowerCase();
  const transport = (m[2] ?? '').toLowerCase();
  const authority = m[3] ?? '';
  const path = m[4] ?? '';
  const query = m[5] ?? '';

  if (driver !== 'qemu') {
    const what = otherDrivers[driver] ?? `the '${driver}' driver`;
    throw new LibvirtConnectError(raw, 'unsupported-uri', `${raw}: Dom0 manages QEMU/KVM hosts through libvirt; ${what} are not supported. Use a qemu:// URI (qemu:///system, or qemu+ssh://user@host/system for a remote host).`);
  }
  if (transport && transport !== 'ssh' && transport !== 'unix') {
    const hint = transport === 'tls' || transport === 'tcp' || transport === 'libssh' || transport === 'libssh2' ? ` Use qemu+ssh://${authority || 'user@host'}${path || '/system'} instead.` : '';
    throw new LibvirtConnectError(raw, 'unsupported-uri', `${raw}: the '${transport}' transport is not supported; Dom0 reaches libvirt over the local socket or SSH.${hint}`);
  }
  const mode = path.replace(/\/+$/, '') === '/session' ? 'session' : path.replace(/\/+$/, '') === '/system' ? 'system' : null;
  if (!mode) throw invalid(`the path must be /system or /session, not '${path || '(none)'}'`);

  const params = new URLSearchParams(query);
  const out: LibvirtUri = { uri: raw, transport: transport === 'ssh' ? 'ssh' : 'unix', mode, openName: `qemu:///${mode}` };
  for (const [k, v] of params) {
    if (k === 'socket') {
      if (!safePath.test(v)) throw invalid(`socket= must be an absolute path of plain characters, not '${v}'`);
      out.socket = v;
    } else if (k === 'keyfile') {
      if ((!v.startsWith('/') && !v.startsWith('~/')) || hasControlCharacter(v)) throw invalid(`keyfile= must be an absolute path or start with ~/, not '${v}'`);
      out.keyfile = v;
    } else if (k === 'known_hosts') {
      // Accepted keys are appended to this file: only a known_hosts file, so a URI from a web
      // client cannot make the engine append to any file it can write.
      if ((!v.startsWith('/') && !v.startsWith('~/')) || hasControlCharacter(v) || !basename(v).startsWith('known_hosts'))
        throw invalid(`known_hosts= must be an absolute path of a file named known_hosts…, not '${v}'`);
      out.knownHosts = v;
    } else if (k === 'no_verify' || k === 'command' || k === 'netcat' || k === 'proxy' || k === 'mode' || k === 'name') {
      // no_verify would skip the host-key check and command/netcat run arbitrary programs on the far
      // side: refused rather than ignored, so nobody believes they took effect.
      throw invalid(`the ${k}= parameter is not supported here`);
    } else throw invalid(`unknown parameter ${k}=`);
  }

  if (out.transport === 'ssh') {
    const a = /^(?:([^@:]+)@)?(\[[0-9a-fA-F:]+\]|[^:@]+)(?::(\d+))?$/.exec(authority);
    if (!a) throw invalid('qemu+ssh:// needs a host, e.g. qemu+ssh://root@server/system');
    if (a[1] !== undefined) {
      if (!safeSegment.test(a[1])) throw invalid(`'${a[1]}' is not a user name`);
      out.user = a[1];
    }
    const host = a[2]!.replace(/^\[|\]$/g, '');
    if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw invalid(`'${host}' is not a host name`);
    out.host = host;
    if (a[3] !== undefined) {
      const port = Number(a[3]);
      if (!(port > 0 && port < 65536)) throw invalid(`port ${a[3]} is out of range`);
      out.port = port;
    }
  } else if (authority !== '') {
    throw new LibvirtConnectError(raw, 'unsupported-uri', `${raw}: a host name needs a transport; use qemu+ssh://${authority}${path} to reach it over SSH.`);
  }
  return out;
}
