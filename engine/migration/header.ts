// The self-describing header in front of a QEMU migration stream, used by save files and by the
// relocation protocol alike (a live migration is a save file sent over an authenticated socket):
//
//   "DOM0SAVE"  u32 BE format version  u32 BE header length  header JSON  QEMU's migration stream…
//
// The JSON carries the domain's identity and its running config as an xm file, so a restore
// needs nothing but the file. Like Xen's "LinuxGuestRecord" + config S-expression.

import { MigrationError } from './errors.js';

export const SAVE_MAGIC = Buffer.from('DOM0SAVE', 'latin1');
export const SAVE_FORMAT_VERSION = 1;
/** A config is at most 1 MiB (the protocol's limit); the header cannot be much more. */
const MAX_HEADER_BYTES = 2 * 1024 * 1024;

export interface SaveHeader {
  name: string;
  uuid: string;
  macs: string[];
  /** The running config, serialized as an xm file. */
  config: string;
  /** ms since the epoch */
  savedAt: number;
  /** QEMU version of the saving side (`major.minor.micro`): a restore on an older QEMU may refuse the stream. */
  qemuVersion: string;
}

export function encodeHeader(header: SaveHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const fixed = Buffer.alloc(16);
  SAVE_MAGIC.copy(fixed, 0);
  fixed.writeUInt32BE(SAVE_FORMAT_VERSION, 8);
  fixed.writeUInt32BE(json.length, 12);
  return Buffer.concat([fixed, json]);
}

/** Length of the fixed part; the JSON length is in it. */
export const FIXED_HEADER_BYTES = 16;

/** Parse the fixed part: the JSON's length, after checking magic and version. */
export function headerLength(fixed: Buffer, where: string): number {
  if (fixed.length < FIXED_HEADER_BYTES || !fixed.subarray(0, 8).equals(SAVE_MAGIC)) {
    throw new MigrationError('BadSaveFile', `${where} is not a Dom0 save file (no DOM0SAVE header)`);
  }
  const version = fixed.readUInt32BE(8);
  if (version !== SAVE_FORMAT_VERSION) {
    throw new MigrationError('BadSaveFile', `${where} has save format version ${version}; this engine reads version ${SAVE_FORMAT_VERSION}`);
  }
  const length = fixed.readUInt32BE(12);
  if (length === 0 || length > MAX_HEADER_BYTES) throw new MigrationError('BadSaveFile', `${where} has a corrupt header (length ${length})`);
  return length;
}

export function decodeHeader(json: Buffer, where: string): SaveHeader {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw new MigrationError('BadSaveFile', `${where} has a corrupt header (not JSON)`);
  }
  const h = value as Partial<SaveHeader>;
  const ok =
    typeof h.name === 'string' &&
    typeof h.uuid === 'string' &&
    Array.isArray(h.macs) &&
    h.macs.every((m) => typeof m === 'string') &&
    typeof h.config === 'string' &&
    typeof h.savedAt === 'number' &&
    typeof h.qemuVersion === 'string';
  if (!ok) throw new MigrationError('BadSaveFile', `${where} has a corrupt header (fields missing)`);
  return h as SaveHeader;
}
