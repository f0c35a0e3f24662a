// QMP on the wire: the message shapes, and pure functions that turn one line into a checked
// message or one command into one line. No I/O and no state: the client decides what a message
// means for the connection (docs/interop/qmp-spec.rst in QEMU's tree is the reference).

import { ProtocolError } from './errors.js';

/** Lines above this are refused. QEMU's largest reply (query-qmp-schema) is well under 1 MiB;
 * the cap bounds what a misbehaving peer can make us buffer. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface QmpVersion {
  major: number;
  minor: number;
  micro: number;
}

/** `{"QMP": {...}}`, the first line QEMU sends on a new connection. */
export interface QmpGreeting {
  version: { qemu: QmpVersion; package: string };
  /** Optional protocol features QEMU offers ('oob'). We enable none of them. */
  capabilities: string[];
}

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

export interface QmpEvent<D = Record<string, unknown>> {
  event: string;
  /** QEMU omits `data` for events without payload (STOP, RESUME); we give `{}` then. */
  data: D;
  timestamp: QmpTimestamp;
}

/** Payloads of the events Dom0 handles, as QEMU 7.2's QAPI schema defines them. They are typed
 * for convenience, not checked field by field: QEMU generates them from the same schema. */
export interface QmpEventMap {
  /** reason: 'host-qmp-quit', 'host-signal', 'guest-shutdown', 'guest-reset', 'guest-panic', ... */
  SHUTDOWN: { guest: boolean; reason: string };
  RESET: { guest: boolean; reason: string };
  POWERDOWN: Record<string, never>;
  STOP: Record<string, never>;
  RESUME: Record<string, never>;
  GUEST_PANICKED: { action: 'pause' | 'poweroff' | 'run'; info?: Record<string, unknown> };
  DEVICE_DELETED: { device?: string; path: string };
  BLOCK_IO_ERROR: {
    device: string;
    'node-name'?: string;
    operation: 'read' | 'write';
    action: 'ignore' | 'report' | 'stop';
    nospace?: boolean;
    reason: string;
  };
  MIGRATION: { status: string };
  BALLOON_CHANGE: { actual: number };
}

/** The event type for a name: its typed payload when known, a plain record otherwise ('*' too). */
export type QmpEventOf<K extends string> = K extends keyof QmpEventMap ? QmpEvent<QmpEventMap[K]> : QmpEvent;

/** One parsed line from QEMU. `id` is whatever QEMU echoed (we only send strings); an error
 * without an id is QEMU saying it could not parse a request. */
export type QmpMessage =
  | { type: 'greeting'; greeting: QmpGreeting }
  | { type: 'return'; id: unknown; value: unknown }
  | { type: 'error'; id: unknown; errorClass: string; desc: string }
  | { type: 'event'; event: QmpEvent };

/** Parses and checks one line (without its newline). Throws ProtocolError. */
export function parseMessage(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError('malformed-json', 'QEMU sent a line that is not JSON', line);
  }
  if (!isRecord(value)) {
    throw new ProtocolError('unrecognised', 'QEMU sent JSON that is not an object', line);
  }
  if ('QMP' in value) return { type: 'greeting', greeting: parseGreeting(value['QMP'], line) };
  if ('event' in value) return { type: 'event', event: parseEvent(value, line) };
  if ('return' in value) return { type: 'return', id: value['id'], value: value['return'] };
  if ('error' in value) {
    const error = value['error'];
    if (!isRecord(error) || typeof error['class'] !== 'string' || typeof error['desc'] !== 'string') {
      throw new ProtocolError('invalid-message', 'QEMU sent an error reply without a class and desc', line);
    }
    return { type: 'error', id: value['id'], errorClass: error['class'], desc: error['desc'] };
  }
  throw new ProtocolError('unrecognised', 'QEMU sent an object that is no QMP greeting, reply or event', line);
}

/** One command as one line. JSON.stringify does all the quoting: a command or argument value can
 * never inject a second command, since it escapes every newline and quote. Throws TypeError for
 * values JSON cannot carry (BigInt, cycles). */
export function encodeCommand(id: string, command: string, args?: object): string {
  return JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
}

function parseGreeting(qmp: unknown, line: string): QmpGreeting {
  const invalid = () => new ProtocolError('invalid-message', 'QEMU sent a malformed QMP greeting', line);
  if (!isRecord(qmp) || !isRecord(qmp['version'])) throw invalid();
  const { qemu, package: pkg } = qmp['version'];
  const capabilities = qmp['capabilities'];
  if (
    !isRecord(qemu) ||
    !isCount(qemu['major']) ||
    !isCount(qemu['minor']) ||
    !isCount(qemu['micro']) ||
    typeof pkg !== 'string' ||
    !Array.isArray(capabilities) ||
    !capabilities.every((c): c is string => typeof c === 'string')
  ) {
    throw invalid();
  }
  return {
    version: { qemu: { major: qemu['major'], minor: qemu['minor'], micro: qemu['micro'] }, package: pkg },
    capabilities,
  };
}

function parseEvent(value: Record<string, unknown>, line: string): QmpEvent {
  const { event, data, timestamp } = value;
  if (
    typeof event !== 'string' ||
    (data !== undefined && !isRecord(data)) ||
    !isRecord(timestamp) ||
    typeof timestamp['seconds'] !== 'number' ||
    typeof timestamp['microseconds'] !== 'number'
  ) {
    throw new ProtocolError('invalid-message', 'QEMU sent a malformed event', line);
  }
  return {
    event,
    data: data ?? {},
    timestamp: { seconds: timestamp['seconds'], microseconds: timestamp['microseconds'] },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
