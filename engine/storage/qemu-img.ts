// qemu-img, always through argv (never a shell): image facts, create, resize, convert with
// progress. Its stderr becomes the error message, since it names the actual problem.

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { StorageError } from './errors.js';

const execFileAsync = promisify(execFile);

export interface ImageInfo {
  format: string;
  /** Guest-visible size in bytes. */
  virtualSize: number;
  /** Bytes the file takes on the host. */
  actualSize: number;
  backingFile?: string;
}

export class QemuImg {
  constructor(readonly binary: string) {}

  async info(path: string): Promise<ImageInfo> {
    // -U: read the header even while a running QEMU holds the image's write lock.
    const out = await this.#run(['info', '-U', '--output=json', path]);
    const j = JSON.parse(out) as { format: string; 'virtual-size': number; 'actual-size'?: number; 'backing-filename'?: string };
    return { format: j.format, virtualSize: j['virtual-size'], actualSize: j['actual-size'] ?? 0, backingFile: j['backing-filename'] };
  }

  async create(opts: { path: string; format: 'qcow2' | 'raw'; size: number; preallocate: boolean; backing?: { path: string; format: string } }): Promise<void> {
    const args = ['create', '-q', '-f', opts.format];
    // falloc reserves every block without writing zeros: "preallocated" at the cost of a syscall.
    // The -o value is a fixed word: no path or user text ever goes into that comma-separated list.
    if (opts.preallocate) args.push('-o', 'preallocation=falloc');
    if (opts.backing) args.push('-b', opts.backing.path, '-F', opts.backing.format);
    args.push('--', opts.path);
    // With a backing file and no size, qemu-img takes the backing file's size.
    if (!opts.backing || opts.size > 0) args.push(String(opts.size));
    await this.#run(args);
  }

  async resize(opts: { path: string; format: string; size: number; shrink: boolean }): Promise<void> {
    const args = ['resize', '-q', '-f', opts.format];
    if (opts.shrink) args.push('--shrink');
    args.push('--', opts.path, String(opts.size));
    await this.#run(args);
  }

  /** Copy/convert an image; `onProgress` gets 0..100 as qemu-img reports it (-p). */
  convert(opts: { source: string; target: string; format: 'qcow2' | 'raw'; onProgress?: (percent: number) => void; signal?: AbortSignal }): Promise<void> {
    const args = ['convert', '-p', '-O', opts.format, '--', opts.source, opts.target];
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
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
      child.once('error', (err) => reject(new StorageError('QemuImgFailed', `qemu-img convert could not run: ${err.message}`)));
      child.once('close', (code) => {
        if (code === 0) {
          opts.onProgress?.(100);
          resolve();
        } else reject(new StorageError('QemuImgFailed', `qemu-img convert failed: ${stderr.trim() || `exit code ${code}`}`));
      });
    });
  }

  async #run(args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.binary, args, { maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new StorageError('QemuImgFailed', `qemu-img ${args[0]} failed: ${(e.stderr ?? '').trim() || e.message}`);
    }
  }
}
