// Console streams through a real xend: the serial console fanned out to several viewers (with the
// replay of serial.log), the VNC console relayed as raw RFB from QEMU's own server, and serial.log
// rotation under a writer that holds it open with O_APPEND, as QEMU does.

import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolvePaths } from '../../engine/common/paths.js';
import { rotateSerialLog, SerialHub } from '../../engine/consoles/index.js';
import { RemoteError } from '../../engine/protocol/common/errors.js';
import type { ProtocolClient } from '../../engine/protocol/common/client.js';
import { xendEvents, xendMethods, xendStreams } from '../../engine/protocol/common/xend-api.js';
import type { XendEvents, XendMethods, XendStreams } from '../../engine/protocol/common/xend-api.js';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { startXend, type XendHandle } from '../../engine/xend/daemon.js';
import { GUEST_INITRD, GUEST_KERNEL, READY, READY_MARKER, requireGuest, stopXenstored } from './helpers/engine.js';

type Client = ProtocolClient<XendMethods, XendEvents, XendStreams, Duplex>;

/** Everything a stream has sent so far, and a wait for a pattern in it. */
class Viewer {
  text = '';
  readonly #waiters = new Set<() => void>();
  #ended = false;

  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
      for (const w of [...this.#waiters]) w();
    });
    stream.on('close', () => {
      this.#ended = true;
      for (const w of [...this.#waiters]) w();
    });
    stream.on('error', () => undefined);
  }

  waitFor(pattern: RegExp | string, timeoutMs = 90_000): Promise<string> {
    const test = () => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text));
    if (test()) return Promise.resolve(this.text);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; got: ${JSON.stringify(this.text.slice(-500))}`));
      }, timeoutMs);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve(this.text);
        } else if (this.#ended) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          reject(new Error(`stream ended before ${String(pattern)}; got: ${JSON.stringify(this.text.slice(-500))}`));
        }
      };
      this.#waiters.add(check);
    });
  }

  close(): void {
    this.stream.destroy();
  }
}

let home: string;
let xend: XendHandle;
let client: Client;
const viewers: Viewer[] = [];

function configText(name: string, extra = ''): string {
  return [
    `name = "${name}"`,
    'memory = 128',
    `kernel = "${GUEST_KERNEL}"`,
    `ramdisk = "${GUEST_INITRD}"`,
    'extra = "console=ttyS0 panic=0 quiet"',
    extra,
  ].join('\n');
}

async function serial(ref: string, replayBytes = 0): Promise<Viewer> {
  const viewer = new Viewer(await client.openStream('console.serial', { ref, replayBytes }));
  viewers.push(viewer);
  return viewer;
}

beforeAll(async () => {
  requireGuest();
  home = mkdtempSync('/tmp/d0c-');
  xend = await startXend({ paths: resolvePaths({ DOM0_HOME: home }), env: { ...process.env, DOM0_ACCEL: 'tcg' } });
  client = await connectUnix(xend.socketPath, xendMethods, { events: xendEvents, streams: xendStreams });
  await client.call('domain.create', { text: configText('cvnc', "vfb = ['vnc=1']"), file: 'cvnc.cfg' });
  // Only asked for its (missing) display: kept paused, so it costs no CPU.
  await client.call('domain.create', { text: configText('cplain'), file: 'cplain.cfg', paused: true });
});

afterAll(async () => {
  for (const v of viewers) v.close();
  if (client !== undefined) {
    for (const name of ['cvnc', 'cplain']) await client.call('domain.destroy', { ref: name }).catch(() => undefined);
    await client.close();
  }
  await xend?.stop();
  stopXenstored(home);
  rmSync(home, { recursive: true, force: true });
});

describe('serial console relay', () => {
  test('two viewers at once both see the output of a command typed into the first', async () => {
    const first = await serial('cvnc', 1024 * 1024);
    await first.waitFor(READY);
    const second = await serial('cvnc');
    first.stream.write('echo RELAY-$((6*7))-OK\n');
    // The echo of the typed line has the expression; only the shell's output has 42.
    await first.waitFor('RELAY-42-OK');
    await second.waitFor('RELAY-42-OK');
  });

  test('a new viewer gets the replay of recent output', async () => {
    const late = await serial('cvnc', 64 * 1024);
    await late.waitFor(READY_MARKER, 10_000);
    await late.waitFor('RELAY-42-OK', 10_000);
  });
});

describe('VNC console relay', () => {
  test('each viewer gets its own RFB session from QEMU', async () => {
    const a = new Viewer(await client.openStream('console.vnc', { ref: 'cvnc' }));
    const b = new Viewer(await client.openStream('console.vnc', { ref: 'cvnc' }));
    viewers.push(a, b);
    await a.waitFor('RFB 003.008\n', 10_000);
    await b.waitFor('RFB 003.008\n', 10_000);
    expect(a.text.startsWith('RFB 003.008\n')).toBe(true);
    expect(b.text.startsWith('RFB 003.008\n')).toBe(true);
    // The handshake goes on through the relay: QEMU answers our version with its security types.
    a.stream.write('RFB 003.008\n');
    await a.waitFor(/^RFB 003\.008\n[\s\S]+/, 10_000);
  });

  test('a domain without a vfb is refused with NoDisplay', async () => {
    const refusal = await client.openStream('console.vnc', { ref: 'cplain' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(RemoteError);
    expect((refusal as RemoteError).code).toBe('NoDisplay');
    expect((refusal as RemoteError).message).toBe("domain cplain has no graphical console (add vfb = ['vnc=1'])");
  });
});

describe('closing viewers', () => {
  test('leaves the guest running and its console usable', async () => {
    for (const v of viewers.splice(0)) v.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await client.call('domain.list');
    expect(rows.find((r) => r.name === 'cvnc')?.status).toBe('running');
    const again = await serial('cvnc');
    again.stream.write('echo AGAIN-$((2+3))-OK\n');
    await again.waitFor('AGAIN-5-OK');
  });
});

describe('serial.log rotation', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync('/tmp/d0r-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('keeps the tail, and a writer holding the file with O_APPEND goes on after it', async () => {
    const log = join(dir, 'serial.log');
    const fd = openSync(log, 'a'); // as QEMU's logfile: O_APPEND
    try {
      const lines = Array.from({ length: 2000 }, (_, i) => `line ${String(i).padStart(5, '0')}\n`); // 11 bytes each
      writeSync(fd, lines.join(''));
      expect(await rotateSerialLog(log, { maxBytes: 30_000, keepBytes: 1100 })).toBe(false);
      writeSync(fd, 'x'.repeat(10_000));
      expect(await rotateSerialLog(log, { maxBytes: 30_000, keepBytes: 1100 })).toBe(true);
      expect(readFileSync(log, 'utf8')).toBe('x'.repeat(1100));
      writeSync(fd, 'after rotation\n');
      expect(readFileSync(log, 'utf8')).toBe(`${'x'.repeat(1100)}after rotation\n`);
    } finally {
      closeSync(fd);
    }
    expect(await rotateSerialLog(join(dir, 'missing.log'))).toBe(false);
  });

  test('the hub rotates on attach and as output flows', async () => {
    const log = join(dir, 'hub.log');
    const sock = join(dir, 'hub.sock');
    appendFileSync(log, 'a'.repeat(5000));
    let guest: net.Socket | undefined;
    const server = net.createServer((s) => (guest = s));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    const hub = new SerialHub({ socket: sock, log }, { rotation: { maxBytes: 4000, keepBytes: 1000, checkEveryBytes: 100 } });
    try {
      const viewer = await hub.attach(500);
      expect(readFileSync(log, 'utf8')).toBe('a'.repeat(1000));
      const seen = new Viewer(viewer.readable);
      // The guest writes: QEMU puts it in the log and on the socket.
      appendFileSync(log, 'b'.repeat(4000));
      guest!.write('b'.repeat(200));
      await seen.waitFor('b'.repeat(200), 5000);
      await hub.rotateLog(); // the rotation the output started, if still running
      expect(readFileSync(log, 'utf8')).toBe('b'.repeat(1000));
    } finally {
      hub.close();
      guest?.destroy();
      server.close();
    }
  });
});
