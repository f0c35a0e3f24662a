import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { acquirePidLock, AlreadyRunningError } from '../../engine/xend/lock.js';
import { formatLogLine } from '../../engine/xend/log.js';
import { parseSettings } from '../../engine/xend/settings.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("xend.conf uses Xen's (key value) lines; bad lines name file and line", () => {
  const { settings, warnings } = parseSettings("# engine\n(accel tcg)\n(web-listen '127.0.0.1:8800')\n(xend-tcp-xmlrpc-server no)\n", 'xend.conf');
  expect(settings).toMatchObject({ accel: 'tcg', webListen: '127.0.0.1:8800', webAllowRemote: false });
  expect(warnings).toEqual(["xend.conf:4: unknown setting 'xend-tcp-xmlrpc-server' ignored"]);
  expect(() => parseSettings('(accel fast)\n', 'xend.conf')).toThrow(/xend.conf:1: accel=fast is not valid; use kvm, tcg or auto/);
  expect(() => parseSettings('accel = tcg\n', 'xend.conf')).toThrow(/xend.conf:1: expected "\(key value\)"/);
});

test('log lines look like xend.log and cannot be forged with newlines', () => {
  const line = formatLogLine(new Date(2026, 10, 28, 9, 5, 7), 42, 'INFO', 'domains', 'started web1\n[fake] ERROR');
  expect(line).toBe('[2026-11-28 09:05:07 42] INFO (domains) started web1 | [fake] ERROR\n');
});

test('the pid lock refuses a second owner while the first lives, and takes over a stale one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'));
  dirs.push(dir);
  const path = join(dir, 'xend.pid');
  const lock = acquirePidLock(path, 'xend');
  expect(() => acquirePidLock(path, 'xend')).toThrow(AlreadyRunningError);
  expect(() => acquirePidLock(path, 'xend')).toThrow(new RegExp(`pid ${process.pid}`));
  lock.release();
  // A lock left by a process that no longer exists.
  writeFileSync(path, '999999999 1\n');
  acquirePidLock(path, 'xend').release();
});
