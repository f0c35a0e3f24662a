// qemu-img, the one image tool: create an image, read what an image is. argv only (no shell),
// paths absolute so no file name can be read as a protocol prefix (`nbd:`, `json:`). Small on
// purpose: the storage pools of a later issue reuse it as is.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import { findQemuImg } from './binary.js';

const run = promisify(execFile);

export type ImageFormat = 'raw' | 'qcow2';

export interface ImageInfo {
  /** What qemu-img found: 'raw', 'qcow2', 'vmdk', ... */
  format: string;
  virtualSize: number;
  actualSize?: number;
}

export class ImageToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageToolError';
  }
}

function checkPath(path: string): void {
  // eslint-disable-next-line no-control-regex
  if (!isAbsolute(path) || /[\u0000-\u001f]/.test(path)) throw new ImageToolError(`${path}: an image path must be absolute, without control characters`);
}

async function qemuImg(args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(findQemuImg(env), args, { timeout: 120_000, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ImageToolError(`qemu-img ${args[0]} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Create a new, sparse image of `sizeBytes`. Refuses to overwrite: qemu-img itself would. */
export async function createImage(opts: { path: string; format: ImageFormat; sizeBytes: number; env?: NodeJS.ProcessEnv }): Promise<void> {
  checkPath(opts.path);
  if (!Number.isSafeInteger(opts.sizeBytes) || opts.sizeBytes <= 0) throw new ImageToolError(`bad image size ${opts.sizeBytes}`);
  if (existsSync(opts.path)) throw new ImageToolError(`${opts.path} exists already; choose another name`);
  await qemuImg(['create', '-q', '-f', opts.format, opts.path, String(opts.sizeBytes)], opts.env);
}

/** What an existing image is (format probed read-only, as `qemu-img info` does). */
export async function imageInfo(path: string, env?: NodeJS.ProcessEnv): Promise<ImageInfo> {
  checkPath(path);
  const out = await qemuImg(['info', '--output=json', '-U', path], env);
  const info = JSON.parse(out) as { format?: string; 'virtual-size'?: number; 'actual-size'?: number };
  if (typeof info.format !== 'string' || typeof info['virtual-size'] !== 'number') throw new ImageToolError(`qemu-img info ${path}: unexpected output`);
  return { format: info.format, virtualSize: info['virtual-size'], actualSize: info['actual-size'] };
}
