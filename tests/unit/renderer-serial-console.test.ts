// @vitest-environment happy-dom
// SerialConsole against a fake engine and a stand-in for xterm.js (happy-dom has no canvas or
// layout): it opens console.serial with a 64 KiB replay, shows what comes, sends keystrokes as
// bytes, holds output while xterm has too much unparsed, and reconnects when the stream ends.

import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, nextTick } from 'vue';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { DomainRow } from '../../renderer/src/api/types.js';
import SerialConsole from '../../renderer/src/components/console/SerialConsole.vue';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { LOCAL_CONNECTION_ID } from '../../renderer/src/model/route.js';
import { fakeClient, installElectronBridge, runningRow, settle } from './renderer-fakes.js';

const terms = vi.hoisted(() => [] as FakeTerminal[]);

interface FakeTerminal {
  written: Uint8Array[];
  /** Write callbacks not yet called: xterm still parsing. */
  pending: (() => void)[];
  resets: number;
  type(text: string): void;
  disposed: boolean;
}

vi.mock('@xterm/xterm', () => ({
  Terminal: class {
    written: Uint8Array[] = [];
    pending: (() => void)[] = [];
    resets = 0;
    disposed = false;
    #onData: ((text: string) => void) | undefined;
    constructor() {
      terms.push(this as unknown as FakeTerminal);
    }
    loadAddon(): void {}
    open(): void {}
    focus(): void {}
    onData(cb: (text: string) => void) {
      this.#onData = cb;
      return { dispose() {} };
    }
    onBinary() {
      return { dispose() {} };
    }
    type(text: string): void {
      this.#onData?.(text);
    }
    write(data: Uint8Array, cb: () => void): void {
      this.written.push(data);
      this.pending.push(cb);
    }
    reset(): void {
      this.resets++;
    }
    dispose(): void {
      this.disposed = true;
    }
  },
}));
vi.mock('@xterm/addon-fit', () => ({ FitAddon: class { fit(): void {} } }));
vi.mock('@xterm/xterm/css/xterm.css', () => ({}));

/** A console stream as the renderer sees it (BrowserStream's shape). */
function fakeStream() {
  const dataCbs = new Set<(b: Uint8Array) => void>();
  const closeCbs = new Set<(i: { code: number; reason: string }) => void>();
  return {
    sent: [] as Uint8Array[],
    closed: false,
    socket: {} as WebSocket,
    bufferedAmount: 0,
    send(bytes: Uint8Array) {
      this.sent.push(bytes);
    },
    onData(cb: (b: Uint8Array) => void) {
      dataCbs.add(cb);
      return { dispose: () => void dataCbs.delete(cb) };
    },
    onClose(cb: (i: { code: number; reason: string }) => void) {
      closeCbs.add(cb);
      return { dispose: () => void closeCbs.delete(cb) };
    },
    close() {
      this.closed = true;
    },
    push(text: string | Uint8Array) {
      const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
      for (const cb of [...dataCbs]) cb(bytes);
    },
    end() {
      for (const cb of [...closeCbs]) cb({ code: 1000, reason: '' });
    },
  };
}

let pinia: Pinia;
let previous: ClientFactory | undefined;
let removeBridge: () => void = () => undefined;
const unmounts: (() => void)[] = [];

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  removeBridge = installElectronBridge();
  document.body.innerHTML = '';
  terms.length = 0;
});

afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
  connectionCloseAll();
  if (previous) setClientFactory(previous);
  previous = undefined;
  removeBridge();
  vi.useRealTimers();
});

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(20);
    await nextTick();
  }
}

async function setup(rows: DomainRow[]) {
  const client = fakeClient({ 'domain.list': () => rows });
  const streams: ReturnType<typeof fakeStream>[] = [];
  const opens: { kind: string; params: unknown }[] = [];
  const raw = client.asClient() as unknown as Record<string, unknown>;
  raw.openStream = vi.fn(async (kind: string, params: unknown) => {
    opens.push({ kind, params });
    const s = fakeStream();
    streams.push(s);
    return s;
  });
  previous = setClientFactory(async () => client.asClient());
  useConnectionsStore().start();
  await flush();
  const el = document.createElement('div');
  document.body.append(el);
  const props = { conn: LOCAL_CONNECTION_ID, name: 'vm1' };
  const app = createApp(SerialConsole, props);
  app.use(pinia);
  app.mount(el);
  unmounts.push(() => app.unmount());
  await flush();
  const section = () => el.querySelector('section')!;
  return { client, streams, opens, el, section };
}

const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join('');

describe('SerialConsole', () => {
  it('opens the serial stream with a 64 KiB replay and relays both ways', async () => {
    const { streams, opens, section } = await setup([runningRow('vm1', 3)]);
    expect(opens).toEqual([{ kind: 'console.serial', params: { ref: 'vm1', replayBytes: 65536 } }]);
    expect(section().getAttribute('aria-label')).toBe('Serial console of vm1');
    expect(section().dataset.connected).toBe('true');
    streams[0]!.push('login: ');
    expect(text(terms[0]!.written)).toBe('login: ');
    terms[0]!.type('root\r');
    expect(text(streams[0]!.sent)).toBe('root\r');
  });

  it('queues output while xterm has over 256 KiB unparsed, and drops none', async () => {
    const { streams } = await setup([runningRow('vm1', 3)]);
    const term = terms[0]!;
    const chunk = new Uint8Array(100 * 1024).fill(65);
    for (let i = 0; i < 5; i++) streams[0]!.push(chunk);
    expect(term.written).toHaveLength(3); // 300 KiB handed over, then it waits
    term.pending.shift()!();
    expect(term.written).toHaveLength(4);
    while (term.pending.length > 0) term.pending.shift()!();
    expect(term.written).toHaveLength(5);
  });

  it('reconnects when the stream ends while the domain runs, from a reset screen', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { streams, section } = await setup([runningRow('vm1', 3)]);
    streams[0]!.end();
    await flush();
    expect(section().dataset.connected).toBe('false');
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(streams).toHaveLength(2);
    expect(section().dataset.connected).toBe('true');
    expect(terms[0]!.resets).toBe(1);
  });

  it('does not connect to a halted domain', async () => {
    const { streams, section } = await setup([{ ...runningRow('vm1', 3), status: 'halted', domid: undefined }]);
    expect(streams).toHaveLength(0);
    expect(section().dataset.connected).toBe('false');
    expect(section().textContent).toContain('not running');
  });
});
