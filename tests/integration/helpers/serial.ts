// A test's view of a guest's serial console: the log so far plus everything that arrives on the
// socket, with waits for a pattern (bounded by a deadline, driven by incoming data).

import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export class SerialConsole {
  #text = '';
  #waiters: Array<() => void> = [];
  #socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#append(chunk));
  }

  /** Connect to `<runtimeDir>/serial.sock`; the text starts with what serial.log already holds. */
  static async attach(runtimeDir: string): Promise<SerialConsole> {
    const socket = net.createConnection({ path: join(runtimeDir, 'serial.sock') });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const console = new SerialConsole(socket);
    // Read the log after connecting: bytes written in between may appear twice, never not at all.
    try {
      console.#append(readFileSync(join(runtimeDir, 'serial.log'), 'utf8'));
    } catch {
      // no output yet
    }
    return console;
  }

  get text(): string {
    return this.#text;
  }

  send(text: string): void {
    this.#socket.write(text);
  }

  /** Wait until the output after `from` matches; returns the match. */
  async waitFor(pattern: RegExp | string, opts: { from?: number; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    const from = opts.from ?? 0;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.#text.slice(from).match(re);
      if (match) return match;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`serial console: no ${re} within ${timeoutMs} ms; output was:\n${this.#text.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Type a shell command and return what it printed between two unique markers. */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const tag = `m${Math.random().toString(36).slice(2, 8)}`;
    const from = this.#text.length;
    // The markers are built by the guest's shell, so the echo of the typed line cannot match them.
    this.send(`echo "${tag}""-begin"; ${command}; echo "${tag}""-end"\n`);
    const match = await this.waitFor(new RegExp(`${tag}-begin\\r?\\n([\\s\\S]*?)${tag}-end`), { from, timeoutMs });
    return (match[1] ?? '').replace(/\r/g, '');
  }

  close(): void {
    this.#socket.destroy();
  }

  #append(chunk: string): void {
    this.#text += chunk;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
