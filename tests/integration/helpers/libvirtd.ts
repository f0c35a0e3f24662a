// Real libvirtd and sshd for the libvirt tests, started only if they are not running already
// (idempotent: npm test's host-deps step may have started libvirtd first; both use
// scripts/lib/libvirtd.mjs). sshd runs on 127.0.0.1 with a host key and a client key generated per
// test run, touching nothing system-wide.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { join } from 'node:path';
import { GUEST_INITRD, GUEST_KERNEL } from './engine.js';
import { ensureLibvirtd as ensureDaemon } from '../../../scripts/lib/libvirtd.mjs';

/** Why the libvirt tests cannot run here, or null when they can. */
export function libvirtUnavailable(): string | null {
  if (spawnSync('sh', ['-c', 'command -v libvirtd && command -v virsh'], { stdio: 'ignore' }).status !== 0) return 'libvirtd/virsh are not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)';
  if (process.getuid?.() !== 0 && !virshWorks()) return 'libvirtd is not running and only root can start it here';
  if (!existsSync('/usr/sbin/sshd')) return 'sshd is not installed (apt-get install openssh-server)';
  return null;
}

function virshWorks(): boolean {
  return spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

/** Starts libvirtd (configured as host-deps configures it) unless it already answers. */
export async function ensureLibvirtd(): Promise<void> {
  if (!(await ensureDaemon({ root: process.getuid?.() === 0 }))) throw new Error('libvirtd is not running and could not be started (see the message above)');
}

export function virsh(...args: string[]): string {
  return execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** virsh without throwing: { status, out } for checks that expect failure. */
export function virshTry(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The test guest as libvirt XML: TCG, q35, direct kernel boot, serial console, VNC on 127.0.0.1. */
export function guestXml(name: string, opts: { memoryMiB?: number; vnc?: boolean; qcow2?: string } = {}): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${opts.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${GUEST_KERNEL}</kernel>
    <initrd>${GUEST_INITRD}</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    ${opts.qcow2 ? `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${opts.qcow2}'/><target dev='vda' bus='virtio'/></disk>` : ''}
    ${opts.vnc === false ? '' : "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n    <video><model type='vga'/></video>"}
  </devices>
</domain>`;
}

/** Defines a domain with virsh (as a user would in a terminal); returns its name. */
export function virshDefine(name: string, opts?: { memoryMiB?: number; vnc?: boolean; qcow2?: string }): string {
  const dir = mkdtempSync('/tmp/dom0-lv-');
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, guestXml(name, opts));
  try {
    virsh('define', file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return name;
}

/** Removes a test domain whatever its state. */
export function virshCleanup(name: string): void {
  virshTry('destroy', name);
  virshTry('undefine', name, '--nvram');
}

export function virshState(name: string): string {
  return virshTry('domstate', name).out.trim().split('\n')[0] ?? '';
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface TestSshd {
  port: number;
  dir: string;
  /** The client's private key (authorized for root). */
  clientKey: string;
  /** An empty known_hosts file for the test: the host key starts unknown. */
  knownHosts: string;
  /** ssh-keygen -lf of the host key: "SHA256:..." */
  hostFingerprint: string;
  /** Kills sshd and the sessions it forked (a host going away), by their pids. */
  kill(): Promise<void>;
  /** Starts sshd again on the same port with the same keys (the host is back). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** sshd on 127.0.0.1 with keys generated for this run, authorizing the generated client key. */
export async function startTestSshd(): Promise<TestSshd> {
  if (!existsSync('/usr/sbin/sshd')) throw new Error('sshd is not installed: apt-get install openssh-server');
  const dir = mkdtempSync('/tmp/dom0-sshd-');
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, '', { mode: 0o600 });
  const hostFingerprint = execFileSync('ssh-keygen', ['-lf', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    const c = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    // Ready when the port accepts connections (sshd -D does not say so on its own).
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`sshd exited: ${log}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = netConnect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    // The per-connection sshd processes are its children: end them by pid, then the listener.
    const kids = spawnSync('pgrep', ['-P', String(c.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const pid of kids) process.kill(Number(pid), 'SIGKILL');
    c.kill('SIGKILL');
    await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));
  };
  await start();
  return {
    port,
    dir,
    clientKey,
    knownHosts,
    hostFingerprint,
    kill,
    restart: start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

