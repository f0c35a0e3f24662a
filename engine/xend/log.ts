// xend's log, in the shape Xen's xend.log had: `[2026-11-28 14:00:00 1234] INFO (domains) message`.
// One line per record, so `xm log` and grep work; the level and component are fixed fields.

import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface Logger {
  log(level: LogLevel, component: string, message: string): void;
}

export function formatLogLine(time: Date, pid: number, level: LogLevel, component: string, message: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
  // Newlines in a message would forge records: keep each record on its line.
  return `[${stamp} ${pid}] ${level} (${component}) ${message.replace(/\r?\n/g, ' | ')}\n`;
}

/** Appends synchronously: a log line is written before the action it reports goes on. */
export function fileLogger(path: string, opts: { echo?: boolean } = {}): Logger {
  mkdirSync(dirname(path), { recursive: true });
  return {
    log(level, component, message) {
      const line = formatLogLine(new Date(), process.pid, level, component, message);
      appendFileSync(path, line);
      if (opts.echo) process.stderr.write(line);
    },
  };
}
