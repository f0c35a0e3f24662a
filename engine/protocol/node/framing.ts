// Newline-delimited JSON over a byte stream (the unix socket), with a cap on message size that
// holds before buffering: a peer that sends 1 GiB without a newline costs us at most the cap.
// The reader can stop between two messages and hand back the bytes it has not split, because a
// stream connection turns into a raw byte pipe right after its first line.

import { Buffer } from 'node:buffer';

export class LineReader {
  readonly #maxBytes: number;
  readonly #onLine: (line: string) => 'more' | 'stop';
  readonly #onTooLarge: (bytes: number) => void;
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #stopped = false;
  #failed = false;

  /**
   * `onLine` gets each line without its newline (a trailing '\r' is dropped, blank lines are
   * skipped); returning 'stop' makes the reader keep all later bytes unsplit. `onTooLarge` is
   * called once for a line over `maxBytes`, after which the reader ignores its input.
   */
  constructor(maxBytes: number, onLine: (line: string) => 'more' | 'stop', onTooLarge: (bytes: number) => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onTooLarge = onTooLarge;
  }

  push(chunk: Buffer): void {
    if (this.#failed) return;
    if (this.#stopped) {
      this.#parts.push(chunk);
      return;
    }
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) {
        const rest = chunk.subarray(start);
        if (this.#partsBytes + rest.length > this.#maxBytes) return this.#tooLarge(this.#partsBytes + rest.length);
        this.#parts.push(rest);
        this.#partsBytes += rest.length;
        return;
      }
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.#partsBytes + piece.length > this.#maxBytes) return this.#tooLarge(this.#partsBytes + piece.length);
      const line = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#partsBytes = 0;
      let text = line.toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') continue;
      if (this.#onLine(text) === 'stop') {
        this.#stopped = true;
        if (start < chunk.length) this.#parts.push(chunk.subarray(start));
        return;
      }
    }
  }

  /** The bytes received after the line that stopped the reader. */
  takeRest(): Buffer {
    const rest = Buffer.concat(this.#parts);
    this.#parts = [];
    this.#partsBytes = 0;
    return rest;
  }

  #tooLarge(bytes: number): void {
    this.#failed = true;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#onTooLarge(bytes);
  }
}
