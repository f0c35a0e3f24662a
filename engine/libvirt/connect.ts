// Opening a libvirt connection from a URI: the transport (the daemon's unix socket, or SSH running
// virt-ssh-helper / nc -U on the far host), then the RPC handshake (AuthList, polkit where the
// daemon asks for it, ConnectOpen). Every failure becomes one LibvirtConnectError naming the URI
// and what to do; nothing stays open after a failure.

import { existsSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client as SshClient } from 'ssh2';
import { LibvirtClient } from './client.js';
import { LibvirtConnectError, LibvirtDisconnectedError, LibvirtRemoteError } from './errors.js';
import { parseLibvirtUri, type LibvirtUri } from './uri.js';
import { shellQuote, sshConnect, sshExec, type SshOptions } from './ssh.js';

export interface LibvirtConnectOptions extends SshOptions {
  /** Overrides where the local sockets are looked for (tests, unusual installs). */
  socketDir?: string;
}

export interface LibvirtConnection {
  uri: LibvirtUri;
  client: LibvirtClient;
  /** The SSH connection under a qemu+ssh:// URI (for VNC channels to the far host). */
  ssh?: SshClient;
  close(): Promise<void>;
}

const AUTH_NONE = 0;
const AUTH_SASL = 1;
const AUTH_POLKIT = 2;

/** The daemon sockets to try, modular (virtqemud) first as libvirt's own client does. */
export function localSockets(uri: LibvirtUri, socketDir?: string): string[] {
  if (uri.socket) return [uri.socket];
  const dir = socketDir ?? (uri.mode === 'system' ? '/var/run/libvirt' : join(process.env.XDG_RUNTIME_DIR ?? join(homedir(), '.cache'), 'libvirt'));
  return [join(dir, 'virtqemud-sock'), join(dir, 'libvirt-sock')];
}

function openUnix(uri: LibvirtUri, socketDir?: string): Promise<Socket> {
  const candidates = localSockets(uri, socketDir);
  const path = candidates.find((p) => existsSync(p));
  const start = uri.mode === 'system' ? 'start it (`systemctl start libvirtd`, or `virtqemud -d` / `libvirtd -d` as root)' : 'start your session daemon (`libvirtd -d` as your user, or use qemu:///system)';
  if (!path) return Promise.reject(new LibvirtConnectError(uri.uri, 'daemon-not-running', `${uri.uri}: libvirt's daemon is not running (no socket at ${candidates.join(' or ')}): ${start}.`));
  return new Promise((resolve, reject) => {
    const s = netConnect(path);
    s.once('connect', () => {
      s.off('error', onError);
      resolve(s);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EACCES' || err.code === 'EPERM')
        reject(new LibvirtConnectError(uri.uri, 'permission-denied', `${uri.uri}: permission denied on ${path}: add your user to the 'libvirt' group (then log in again), or use qemu:///session.`, undefined, { cause: err }));
      else if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')
        reject(new LibvirtConnectError(uri.uri, 'daemon-not-running', `${uri.uri}: libvirt's daemon is not running (${path} refuses connections): ${start}.`, undefined, { cause: err }));
      else reject(new LibvirtConnectError(uri.uri, 'other', `${uri.uri}: cannot connect to ${path}: ${err.message}`, undefined, { cause: err }));
    };
    s.once('error', onError);
  });
}

/** The far side's command, like libvirt's own ssh transport: virt-ssh-helper where it exists
 * (libvirt ≥ 8 picks the right daemon), else netcat on the daemon's socket. */
export function remoteCommand(uri: LibvirtUri): string {
  const sockets = (uri.socket ? [uri.socket] : uri.mode === 'system' ? ['/var/run/libvirt/virtqemud-sock', '/var/run/libvirt/libvirt-sock'] : []).map(shellQuote).join(' ');
  const helper = uri.socket ? '' : `if command -v virt-ssh-helper >/dev/null 2>&1; then exec virt-ssh-helper ${shellQuote(uri.openName)}; fi; `;
  return `sh -c ${shellQuote(`${helper}for s in ${sockets || '""'}; do if [ -S "$s" ]; then exec nc -U "$s"; fi; done; echo "no libvirt daemon socket found (${sockets || 'session needs virt-ssh-helper'})" >&2; exit 127`)}`;
}

async function handshake(client: LibvirtClient, uri: LibvirtUri): Promise<void> {
  const { types } = await client.call('AuthList');
  if (!types.includes(AUTH_NONE)) {
    if (types.includes(AUTH_POLKIT)) {
      const { complete } = await client.call('AuthPolkit');
      if (!complete) throw new LibvirtConnectError(uri.uri, 'permission-denied', `${uri.uri}: polkit refused access to libvirt: add your user to the 'libvirt' group, or use qemu:///session.`);
    } else if (types.includes(AUTH_SASL)) {
      throw new LibvirtConnectError(uri.uri, 'auth-failed', `${uri.uri}: the daemon requires SASL authentication, which Dom0 does not speak: set auth_unix_rw = "none" (or "polkit") in libvirtd.conf, or connect with qemu+ssh://.`);
    }
  }
  await client.call('ConnectOpen', { name: uri.openName, flags: 0 });
}

function translate(err: unknown, uri: LibvirtUri, stderr?: string): LibvirtConnectError {
  if (err instanceof LibvirtConnectError) return err;
  if (err instanceof LibvirtRemoteError) {
    if (/access denied|permission denied|authentication/i.test(err.message))
      return new LibvirtConnectError(uri.uri, 'permission-denied', `${uri.uri}: libvirt refused access: ${err.message}. Add your user to the 'libvirt' group or use qemu:///session.`);
    return new LibvirtConnectError(uri.uri, 'other', `${uri.uri}: libvirt refused the connection: ${err.message}`);
  }
  if (err instanceof LibvirtDisconnectedError && uri.transport === 'ssh') {
    const said = stderr ? ` It said: ${stderr.split('\n').slice(-3).join(' ')}` : '';
    const notRunning = /no such file|connection refused|no libvirt daemon socket|failed to connect socket/i.test(stderr ?? '');
    const denied = /permission denied/i.test(stderr ?? '');
    if (denied) return new LibvirtConnectError(uri.uri, 'permission-denied', `${uri.uri}: ${uri.user ?? 'this user'} may not use libvirt on ${uri.host}: add the user to the 'libvirt' group there, or connect as root.${said}`);
    if (notRunning) return new LibvirtConnectError(uri.uri, 'daemon-not-running', `${uri.uri}: libvirt's daemon is not running on ${uri.host}: start it there (\`systemctl start libvirtd\`).${said}`);
    return new LibvirtConnectError(uri.uri, 'remote-command-failed', `${uri.uri}: the connection to libvirt on ${uri.host} ended during the handshake: install libvirt-daemon there (virt-ssh-helper or nc must exist).${said}`);
  }
  const e = err as Error;
  return new LibvirtConnectError(uri.uri, 'other', `${uri.uri}: ${e.message}`, undefined, { cause: err });
}

/** Connects to a libvirt daemon by URI. */
export async function connectLibvirt(uriText: string, opts: LibvirtConnectOptions = {}): Promise<LibvirtConnection> {
  const uri = parseLibvirtUri(uriText);
  if (uri.transport === 'unix') {
    const sock = await openUnix(uri, opts.socketDir);
    const client = new LibvirtClient(sock, uri.uri);
    try {
      await withTimeout(handshake(client, uri), uri, 15_000);
    } catch (err) {
      sock.destroy();
      throw translate(err, uri);
    }
    return { uri, client, close: () => client.close() };
  }
  const ssh = await sshConnect(uri.uri, { host: uri.host!, port: uri.port, user: uri.user, keyfile: uri.keyfile, knownHosts: uri.knownHosts }, opts);
  let stderr = (): string => '';
  try {
    const exec = await sshExec(ssh, remoteCommand(uri));
    stderr = exec.stderr;
    const client = new LibvirtClient(exec.channel, uri.uri);
    client.onClose(() => ssh.end());
    await withTimeout(handshake(client, uri), uri, 20_000);
    return { uri, client, ssh, close: async () => { await client.close(); ssh.end(); } };
  } catch (err) {
    // Give stderr a moment to arrive: the helper prints why it failed just before it exits.
    await new Promise((r) => setTimeout(r, 50));
    ssh.end();
    throw translate(err, uri, stderr());
  }
}

function withTimeout<T>(p: Promise<T>, uri: LibvirtUri, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LibvirtConnectError(uri.uri, 'timeout', `${uri.uri}: libvirt's daemon did not answer within ${ms / 1000} s: check that it is not stuck (\`virsh -c ${uri.openName} version\` on the host).`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
