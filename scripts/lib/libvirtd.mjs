// @ts-check
// The test part's last step: a libvirtd the libvirt-host tests can talk to. Quiet when one answers.
// Under systemd it asks systemd to start it; without systemd (containers, CI machines) it
// configures QEMU guests to run as root without a security driver (the tests' guests live in
// root-owned temporary dirs) and starts virtlogd and libvirtd itself, as
// /work/shared/reference/libvirt.md describes. Every step is idempotent.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

/** Monolithic libvirtd's socket, then the modular daemon's (newer distributions). */
export const LIBVIRT_SOCKETS = ['/run/libvirt/libvirt-sock', '/run/libvirt/virtqemud-sock'];
const QEMU_CONF = '/etc/libvirt/qemu.conf';
/** @type {ReadonlyArray<[string, string]>} */
const QEMU_SETTINGS = [['user', '"root"'], ['group', '"root"'], ['dynamic_ownership', '0'], ['security_driver', '"none"']];

/**
 * Whether some libvirt daemon accepts connections on its local socket.
 * @param {readonly string[]} [sockets]
 * @returns {Promise<boolean>}
 */
export async function libvirtAnswers(sockets = LIBVIRT_SOCKETS) {
  for (const path of sockets) {
    if (!existsSync(path)) continue;
    const ok = await new Promise((resolve) => {
      const socket = connect(path);
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
  }
  return false;
}

/**
 * qemu.conf with each of `settings` set (an uncommented `key = value` line replaced, or appended).
 * @param {string} text
 * @param {ReadonlyArray<[string, string]>} settings
 */
export function withQemuSettings(text, settings = QEMU_SETTINGS) {
  let out = text;
  for (const [key, value] of settings) {
    const line = new RegExp(`^[ \\t]*${key}[ \\t]*=.*$`, 'm');
    if (line.test(out)) out = out.replace(line, `${key} = ${value}`);
    else out = `${out.replace(/\n?$/, '\n')}${key} = ${value}\n`;
  }
  return out;
}

/** @param {string} name */
function processRuns(name) {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name) return true;
    } catch {
      // the process ended while we looked
    }
  }
  return false;
}

/** @param {string} cmd @param {string[]} args */
function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/** Configure and start libvirtd as root, the way a host without systemd needs. */
function startAsRoot() {
  if (existsSync('/run/systemd/system')) {
    run('systemctl', ['start', existsSync('/usr/sbin/virtqemud') ? 'virtqemud.socket' : 'libvirtd']);
    return;
  }
  mkdirSync('/var/log/libvirt', { recursive: true });
  if (spawnSync('getent', ['group', 'libvirt-qemu'], { stdio: 'ignore' }).status !== 0) run('groupadd', ['-r', 'libvirt-qemu']);
  if (spawnSync('id', ['libvirt-qemu'], { stdio: 'ignore' }).status !== 0) run('useradd', ['-r', '-g', 'libvirt-qemu', 'libvirt-qemu']);
  const conf = existsSync(QEMU_CONF) ? readFileSync(QEMU_CONF, 'utf8') : '';
  const wanted = withQemuSettings(conf);
  if (wanted !== conf) {
    writeFileSync(`${QEMU_CONF}.dom0-new`, wanted);
    renameSync(`${QEMU_CONF}.dom0-new`, QEMU_CONF);
  }
  if (!processRuns('virtlogd')) run('virtlogd', ['-d']);
  if (!processRuns('libvirtd')) run('libvirtd', ['-d']);
}

/**
 * Make sure libvirtd answers. Returns false (after saying what to do) when it cannot.
 * @param {{ root: boolean, sudo?: string[] }} opts  sudo: the command that re-runs this step as root
 * @returns {Promise<boolean>}
 */
export async function ensureLibvirtd({ root, sudo }) {
  if (await libvirtAnswers()) return true;
  try {
    if (root) startAsRoot();
    else if (sudo) run('sudo', ['-n', ...sudo]);
    else {
      console.error('host-deps: libvirtd is not running and the libvirt tests need it: start it with `sudo systemctl start libvirtd` (or run npm test as root).');
      return false;
    }
  } catch (err) {
    console.error(`host-deps: cannot start libvirtd: ${/** @type {Error} */ (err).message}`);
    return false;
  }
  // libvirtd -d returns before its socket listens: wait for it to answer.
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await libvirtAnswers()) {
      if (root) console.log('host-deps: started libvirtd for the libvirt tests');
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.error(`host-deps: libvirtd was started but its socket (${LIBVIRT_SOCKETS.join(' or ')}) does not answer: see /var/log/libvirt/`);
  return false;
}
