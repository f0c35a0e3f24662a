// A real engine for integration tests: its own DOM0_HOME under /tmp (short, for unix socket
// paths), the real QEMU under TCG, and the test guest built by tests/fixtures/build-guest.sh.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePaths, type Dom0Paths } from '../../../engine/common/paths.js';
import { loadDomainConfigText, type DomainConfig } from '../../../engine/config/index.js';
import { DomainManager, type DomainEvent } from '../../../engine/domains/index.js';
import { findQemuSystem } from '../../../engine/qemu/index.js';

const cache = join(import.meta.dirname, '../../fixtures/cache');
export const GUEST_KERNEL = join(cache, 'vmlinux');
export const GUEST_INITRD = join(cache, 'initramfs.cpio.gz');
export const READY_MARKER = 'DOM0-GUEST-READY';
/** The marker followed by the serial shell's first prompt: the guest is ready for typed commands. */
export const READY = /DOM0-GUEST-READY[\s\S]*?guest# /;

export function requireGuest(): void {
  if (!existsSync(GUEST_KERNEL) || !existsSync(GUEST_INITRD)) {
    throw new Error('the test guest is not built: run tests/fixtures/build-guest.sh (npm run test:integration does)');
  }
}

export interface TestEngine {
  home: string;
  paths: Dom0Paths;
  manager: DomainManager;
  events: DomainEvent[];
  /** Resolves with the first event (already seen or future) that matches. */
  nextEvent(predicate: (e: DomainEvent) => boolean, timeoutMs?: number): Promise<DomainEvent>;
  dispose(): Promise<void>;
}

export function startTestEngine(opts: { restartGuardMs?: number } = {}): TestEngine {
  requireGuest();
  const home = mkdtempSync('/tmp/d0t-');
  const paths = resolvePaths({ DOM0_HOME: home });
  const logLines: string[] = [];
  const manager = new DomainManager({
    paths,
    qemuBinary: findQemuSystem(),
    accel: 'tcg',
    restartGuardMs: opts.restartGuardMs,
    log: (level, message) => logLines.push(`${level}: ${message}`),
  });
  const events: DomainEvent[] = [];
  manager.onEvent((e) => events.push(e));
  return {
    home,
    paths,
    manager,
    events,
    nextEvent(predicate, timeoutMs = 60_000) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          sub.dispose();
          reject(new Error(`no matching domain event within ${timeoutMs} ms; events: ${JSON.stringify(events)}\nlog:\n${logLines.join('\n')}`));
        }, timeoutMs);
        const sub = manager.onEvent((e) => {
          if (!predicate(e)) return;
          clearTimeout(timer);
          sub.dispose();
          resolve(e);
        });
      });
    },
    async dispose() {
      for (const d of this.manager.list()) await this.manager.destroy(d.domid).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The test guest as an xm config, with extra lines appended (they win, as later assignments do). */
export function guestConfig(name: string, extraLines = ''): DomainConfig {
  const text = [
    `name = "${name}"`,
    'memory = 128',
    `kernel = "${GUEST_KERNEL}"`,
    `ramdisk = "${GUEST_INITRD}"`,
    'extra = "console=ttyS0 panic=0 quiet"',
    extraLines,
  ].join('\n');
  return loadDomainConfigText(text, `${name}.cfg`).config;
}

/** xenstored outlives xend by design: tests that let xend start one stop it through its lock file. */
export function stopXenstored(home: string): void {
  try {
    const pid = Number(readFileSync(join(home, 'data/xenstored.lock'), 'utf8').split(/\s/)[0]);
    if (pid > 0) process.kill(pid, 'SIGTERM');
  } catch {
    // none was started, or it is gone already
  }
}
