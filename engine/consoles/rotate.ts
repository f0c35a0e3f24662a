// serial.log grows for as long as the domain runs (QEMU writes every byte of the guest's serial
// output to it). Rotation keeps its tail in place: QEMU opened the file with O_APPEND, so each of
// its writes goes to the end of the file as it is at that moment; after the tail is copied to the
// front and the file cut to the tail's length, QEMU's next write lands right after the tail. A
// rename-based rotation would not work: QEMU would keep writing to the renamed file.
//
// Bytes QEMU appends between the last read of the tail and the truncate are lost: a window of one
// write call, on output that the live viewers have already received.

import { open } from 'node:fs/promises';

export interface RotateOptions {
  /** Rotate only once the file is larger than this. */
  maxBytes: number;
  /** How many of the newest bytes to keep. */
  keepBytes: number;
}

export const SERIAL_LOG_ROTATION: RotateOptions = { maxBytes: 4 * 1024 * 1024, keepBytes: 1024 * 1024 };

/** Keeps the last `keepBytes` of `path` once it is over `maxBytes`; true if it rotated. A missing
 * file is not an error (the domain has written nothing yet). */
export async function rotateSerialLog(path: string, opts: RotateOptions = SERIAL_LOG_ROTATION): Promise<boolean> {
  if (!(opts.keepBytes >= 0 && opts.keepBytes <= opts.maxBytes)) throw new RangeError('keepBytes must be between 0 and maxBytes');
  let handle;
  try {
    handle = await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size <= opts.maxBytes) return false;
    // Read from the start of the tail up to the end as it is now (QEMU may have written more).
    const chunks: Buffer[] = [];
    let position = size - opts.keepBytes;
    for (;;) {
      const buffer = Buffer.alloc(Math.max(64 * 1024, opts.keepBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    const tail = Buffer.concat(chunks);
    let written = 0;
    while (written < tail.length) {
      const { bytesWritten } = await handle.write(tail, written, tail.length - written, written);
      written += bytesWritten;
    }
    await handle.truncate(tail.length);
    return true;
  } finally {
    await handle.close();
  }
}
