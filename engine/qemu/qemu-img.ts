// qemu-img, the one image tool of the engine (install, storage pools, snapshots, clones, backups,
// migration): argv only, never a shell; every path absolute and put after `--`, so no file name can
// be read as an option or a protocol prefix (`nbd:`, `json:`). qemu-img's stderr becomes the error
// message, since it names the actual problem. Rooms turn QemuImgError into their protocol codes.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { promisify } from 'node:util';
import { findQemuImg } from './binary.js';
import { hasControlCharacter, isSafeAbsolutePath } from '../common/safe-path.js';

const execFileAsync = promisify(execFile);

export type ImageFormat = 'raw' | 'qcow2';

export interface ImageInfo {
  /** What qemu-img found: 'raw', 'qcow2', 'vmdk', ... */
  format: string;
  /** Guest-visible size in bytes. */
  virtualSize: number;
  /** Bytes the file takes on the host. */
  actualSize: number;
  backingFile?: string;
}

/** Why qemu-img was not run or failed: 'exists' lets a caller tell "not mine, keep it" from a failed run. */
export type QemuImgFailure = 'bad-argument' | 'exists' | 'failed';

export class QemuImgError extends Error {
  constructor(
    readonly reason: QemuImgFailure,
    message: string,
  ) {
    super(message);
    this.name = 'QemuImgError';
  }
}

function checkPath(path: string): string {
  if (!isSafeAbsolutePath(path)) throw new QemuImgError('bad-argument', `${path}: an image path must be absolute, without control characters`);
  return path;
}

function checkSize(size: number): string {
  if (!Number.isSafeInteger(size) || size <= 0) throw new QemuImgError('bad-argument', `bad image size ${size}`);
  return String(size);
}

export class QemuImg {
  /** `binary`: the qemu-img to run; by default found (DOM0_QEMU_IMG, PATH) when first needed. */
  constructor(readonly binary?: string) {}

  /** What an image is; -U reads the header even while a running QEMU holds its write lock. */
  async info(path: string): Promise<ImageInfo> {
    const out = await this.#run(['info', '-U', '--output=json', '--', checkPath(path)], 120_000);
    const j = JSON.parse(out) as { format?: unknown; 'virtual-size'?: unknown; 'actual-size'?: number; 'backing-filename'?: string };
    if (typeof j.format !== 'string' || typeof j['virtual-size'] !== 'number') throw new QemuImgError('failed', `qemu-img info ${path}: unexpected output`);
    return { format: j.format, virtualSize: j['virtual-size'], actualSize: j['actual-size'] ?? 0, backingFile: j['backing-filename'] };
  }

  /**
   * A new image, sparse unless `preallocate`. Refuses an existing file: qemu-img would truncate it.
   * With a backing file, `size` may be omitted: the image then takes the backing file's size.
   */
  async create(opts: { path: string; format: ImageFormat; size?: number; preallocate?: boolean; backing?: { path: string; format: string } }): Promise<void> {
    const args = ['create', '-q', '-f', opts.format];
    // falloc reserves every block without writing zeros: "preallocated" at the cost of a syscall.
    // The -o value is a fixed word: no path or user text ever goes into that comma-separated list.
    if (opts.preallocate) args.push('-o', 'preallocation=falloc');
    if (opts.backing) args.push('-b', checkPath(opts.backing.path), '-F', checkFormat(opts.backing.format));
    args.push('--', checkPath(opts.path));
    if (!opts.backing || (opts.size !== undefined && opts.size > 0)) args.push(checkSize(opts.size ?? 0));
    if (existsSync(opts.path)) throw new QemuImgError('exists', `${opts.path} exists already; choose another name`);
    await this.#run(args);
    // qemu-img honours the umask (often 022): a guest's disk is its owner's alone.
    await chmod(opts.path, 0o600);
  }

  async resize(opts: { path: string; format: string; size: number; shrink: boolean }): Promise<void> {
    const args = ['resize', '-q', '-f', checkFormat(opts.format)];
    if (opts.shrink) args.push('--shrink');
    args.push('--', checkPath(opts.path), checkSize(opts.size));
    await this.#run(args);
  }

  /** Internal snapshots of a stopped domain's qcow2 image: take, revert to, delete. */
  async snapshot(op: 'create' | 'apply' | 'delete', name: string, path: string): Promise<void> {
    if (name === '' || hasControlCharacter(name)) throw new QemuImgError('bad-argument', `'${name}' is not a usable snapshot name`);
    const flag = { create: '-c', apply: '-a', delete: '-d' }[op];
    await this.#run(['snapshot', flag, name, '--', checkPath(path)]);
  }

  /**
   * Copy/convert an image to `format` (any qemu-img format: a copy keeps a vmdk a vmdk).
   * `sourceFormat` skips probing the source; `onProgress` gets 0..100 as qemu-img reports it (-p).
   */
  async convert(opts: { source: string; target: string; format: string; sourceFormat?: string; onProgress?: (percent: number) => void; signal?: AbortSignal }): Promise<void> {
    const args = ['convert', opts.onProgress ? '-p' : '-q'];
    if (opts.sourceFormat) args.push('-f', checkFormat(opts.sourceFormat));
    args.push('-O', checkFormat(opts.format), '--', checkPath(opts.source), checkPath(opts.target));
    let binary: string;
    try {
      binary = this.#binary();
    } catch (err) {
      throw new QemuImgError('failed', `qemu-img convert could not run: ${(err as Error).message}`);
    }
    await new Promise<void>((resolve, reject) => {
      const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
      let stderr = '';
      let buffered = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        // qemu-img -p redraws "    (12.34/100%)" with carriage returns.
        buffered += chunk;
        const parts = buffered.split(/[\r\n]/);
        buffered = parts.pop() ?? '';
        for (const part of parts) {
          const m = /\((\d+(?:\.\d+)?)\/100%\)/.exec(part);
          if (m) opts.onProgress?.(Number(m[1]));
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('error', (err) => reject(new QemuImgError('failed', `qemu-img convert could not run: ${err.message}`)));
      child.once('close', (code) => {
        if (code === 0) {
          opts.onProgress?.(100);
          resolve();
        } else reject(new QemuImgError('failed', `qemu-img convert failed: ${stderr.trim() || `exit code ${code}`}`));
      });
    });
  }

  #binary(): string {
    return this.binary ?? findQemuImg();
  }

  async #run(args: string[], timeout?: number): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.#binary(), args, { maxBuffer: 16 * 1024 * 1024, timeout });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new QemuImgError('failed', `qemu-img ${args[0]} failed: ${(e.stderr ?? '').trim() || e.message}`);
    }
  }
}

/** Image formats as qemu-img names them: a plain word, so never an option or a list. */
function checkFormat(format: string): string {
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(format)) throw new QemuImgError('bad-argument', `'${format}' is not an image format`);
  return format;
}
