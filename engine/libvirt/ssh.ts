// SSH to a managed host with the `ssh2` package, behaving like OpenSSH's client where a user would
// notice: host keys checked against ~/.ssh/known_hosts (unknown → shown with its fingerprint until
// the user accepts it; changed → refused), keys from ~/.ssh/id_* or ?keyfile=, ssh-agent, and
// passphrase prompts for encrypted keys. Used by the libvirt transport (virt-ssh-helper) and for
// channels to a guest's VNC socket or port on the far host.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as SshClient, ClientChannel, ConnectConfig } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader sees only its default export.
const { Client, utils } = ssh2;
type Client = SshClient;
import { LibvirtConnectError } from './errors.js';
import { fingerprintOf, KnownHosts } from './known-hosts.js';

export interface SshTarget {
  host: string;
  port?: number;
  user?: string;
  /** A private key file; default: the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists. */
  keyfile?: string;
  /** Default ~/.ssh/known_hosts. */
  knownHosts?: string;
}

export interface SshOptions {
  /** The fingerprint (`SHA256:...`) the user accepted after seeing it: recorded in known_hosts. */
  acceptHostKey?: string;
  /** Asks for a key's passphrase; resolve undefined to skip the key. */
  passphrase?: (keyPath: string) => Promise<string | undefined>;
  /** ssh-agent's socket; default $SSH_AUTH_SOCK. Empty string: no agent. */
  agent?: string;
  /** Handshake timeout; default 15 s. */
  timeoutMs?: number;
}

const expandHome = (p: string): string => (p.startsWith('~/') ? join(homedir(), p.slice(2)) : p);

function describe(t: SshTarget): string {
  return `${t.user ? `${t.user}@` : ''}${t.host}${t.port && t.port !== 22 ? `:${t.port}` : ''}`;
}

async function loadKeys(uri: string, t: SshTarget, opts: SshOptions): Promise<{ keys: { path: string; key: ReturnType<typeof utils.parseKey> }[]; locked: string[] }> {
  const candidates = t.keyfile ? [expandHome(t.keyfile)] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(homedir(), '.ssh', n)).filter((p) => existsSync(p));
  const keys: { path: string; key: ReturnType<typeof utils.parseKey> }[] = [];
  const locked: string[] = [];
  for (const path of candidates) {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      if (t.keyfile) throw new LibvirtConnectError(uri, 'auth-failed', `${uri}: cannot read the key file ${path} (${(err as NodeJS.ErrnoException).code}): check keyfile= in the URI.`);
      continue;
    }
    let key = utils.parseKey(data);
    if (key instanceof Error && /passphrase|encrypted/i.test(key.message)) {
      const pass = opts.passphrase ? await opts.passphrase(path) : undefined;
      if (pass === undefined) {
        locked.push(path);
        continue;
      }
      key = utils.parseKey(data, pass);
      if (key instanceof Error) throw new LibvirtConnectError(uri, 'passphrase-required', `${uri}: the passphrase for ${path} is wrong: enter it again.`);
    }
    if (key instanceof Error) {
      if (t.keyfile) throw new LibvirtConnectError(uri, 'auth-failed', `${uri}: ${path} is not a private key ssh2 can read (${key.message}).`);
      continue;
    }
    keys.push({ path, key });
  }
  return { keys, locked };
}

/** Opens an authenticated SSH connection, or throws one LibvirtConnectError saying what to do. */
export async function sshConnect(uri: string, t: SshTarget, opts: SshOptions = {}): Promise<Client> {
  const port = t.port ?? 22;
  const user = t.user ?? process.env.USER ?? 'root';
  const known = new KnownHosts(expandHome(t.knownHosts ?? join(homedir(), '.ssh', 'known_hosts')));
  const { keys, locked } = await loadKeys(uri, t, opts);
  const agent = opts.agent ?? process.env.SSH_AUTH_SOCK ?? '';

  const methods: AnyAuthMethod[] = [];
  for (const k of keys) methods.push({ type: 'publickey', username: user, key: Array.isArray(k.key) ? k.key[0] : (k.key as never) });
  if (agent) methods.push({ type: 'agent', username: user, agent });

  let hostKeyProblem: LibvirtConnectError | null = null;
  const config: ConnectConfig = {
    host: t.host,
    port,
    username: user,
    readyTimeout: opts.timeoutMs ?? 15_000,
    keepaliveInterval: 10_000,
    keepaliveCountMax: 3,
    authHandler: methods.length ? methods : ['none'],
    hostVerifier: (blob: Buffer): boolean => {
      const fp = fingerprintOf(blob);
      const verdict = known.check(t.host, port, blob);
      if (verdict === 'known') return true;
      if (verdict === 'unknown' && opts.acceptHostKey === fp) {
        known.add(t.host, port, blob);
        return true;
      }
      hostKeyProblem =
        verdict === 'unknown'
          ? new LibvirtConnectError(uri, 'host-key-unknown', `${uri}: the host key of ${t.host} is not known (${fp}). Check this fingerprint with the host's administrator, then accept it to connect.`, fp)
          : verdict === 'revoked'
            ? new LibvirtConnectError(uri, 'host-key-changed', `${uri}: the host key of ${t.host} (${fp}) is marked @revoked in ${known.path}: connection refused.`, fp)
            : new LibvirtConnectError(uri, 'host-key-changed', `${uri}: the host key of ${t.host} has CHANGED (now ${fp}) from the one recorded in ${known.path}. Someone could be intercepting the connection; if the host was reinstalled, remove its old line from ${known.path} and connect again.`, fp);
      return false;
    },
  };
  const preferred = known.knownTypes(t.host, port);
  if (preferred.length) {
    // Negotiate a key type known_hosts already records, as OpenSSH does, so a host with several
    // keys is not reported as unknown because the handshake picked a different one.
    const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    const want = preferred.flatMap((p) => (p === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [p]));
    config.algorithms = { serverHostKey: [...new Set([...want, ...all])] as never };
  }

  const client = new Client();
  return await new Promise<Client>((resolve, reject) => {
    const onError = (err: Error & { level?: string; code?: string }): void => {
      client.end();
      if (hostKeyProblem) return reject(hostKeyProblem);
      const where = describe({ ...t, user });
      if (err.level === 'client-authentication') {
        if (locked.length && !keys.length) return reject(new LibvirtConnectError(uri, 'passphrase-required', `${uri}: the key ${locked.join(', ')} is protected by a passphrase: enter it (or load the key into ssh-agent).`));
        return reject(new LibvirtConnectError(uri, 'auth-failed', `${uri}: ${where} refused our SSH keys${agent ? ' and ssh-agent' : ''}: add your public key to ~${user}/.ssh/authorized_keys there, or name the key with ?keyfile=.`));
      }
      if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') return reject(new LibvirtConnectError(uri, 'unreachable', `${uri}: ${where} did not answer within ${(opts.timeoutMs ?? 15_000) / 1000} s: check the host name, the network and the firewall.`, undefined, { cause: err }));
      if (err.code === 'ECONNREFUSED') return reject(new LibvirtConnectError(uri, 'unreachable', `${uri}: nothing accepts SSH connections on ${t.host} port ${port}: start sshd there or fix the port in the URI.`, undefined, { cause: err }));
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return reject(new LibvirtConnectError(uri, 'unreachable', `${uri}: the host name ${t.host} does not resolve: check its spelling.`, undefined, { cause: err }));
      if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return reject(new LibvirtConnectError(uri, 'unreachable', `${uri}: ${t.host} cannot be reached (${err.code}): check the network.`, undefined, { cause: err }));
      reject(new LibvirtConnectError(uri, 'unreachable', `${uri}: SSH to ${where} failed: ${err.message}`, undefined, { cause: err }));
    };
    client.once('ready', () => {
      client.off('error', onError);
      resolve(client);
    });
    client.once('error', onError);
    client.connect(config);
  });
}

/** Runs a command on the far host; the channel is its stdin/stdout, stderr is collected. */
export function sshExec(client: Client, command: string): Promise<{ channel: ClientChannel; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      let errText = '';
      channel.stderr.on('data', (d: Buffer) => {
        if (errText.length < 8192) errText += d.toString('utf8');
      });
      resolve({ channel, stderr: () => errText.trim() });
    });
  });
}

/** A channel to a unix socket on the far host (OpenSSH's streamlocal forwarding). */
export function sshOpenUnix(client: Client, socketPath: string): Promise<Duplex> {
  return new Promise((resolve, reject) => client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => (err ? reject(err) : resolve(ch))));
}

/** A channel to host:port as seen from the far host. */
export function sshOpenTcp(client: Client, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))));
}

/** Quotes one word for the far side's POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
