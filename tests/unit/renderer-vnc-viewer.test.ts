// @vitest-environment happy-dom
// The graphical console against a fake engine: what it shows before and without a display. (The
// RFB handshake itself is noVNC's; the byte adapter is tested in renderer-vnc-channel.test.ts.)
// The password tests swap noVNC's RFB for a fake that fires its events on demand.

import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, nextTick } from 'vue';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { DomainRow } from '../../renderer/src/api/types.js';
import VncViewer from '../../renderer/src/components/console/VncViewer.vue';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { fakeClient, installElectronBridge, runningRow, settle } from './renderer-fakes.js';

class FakeRFB extends EventTarget {
  static instances: FakeRFB[] = [];
  scaleViewport = false;
  sent: unknown[] = [];
  disconnected = false;
  constructor(
    readonly target: HTMLElement,
    readonly channel: unknown,
    readonly options: { shared?: boolean; credentials?: { password?: string } },
  ) {
    super();
    FakeRFB.instances.push(this);
  }
  sendCredentials(credentials: unknown): void {
    this.sent.push(credentials);
  }
  disconnect(): void {
    this.disconnected = true;
  }
  fire(type: string, detail: unknown = {}): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

const rfbMode = vi.hoisted(() => ({ fake: false }));
vi.mock('@novnc/novnc', async (importOriginal) => {
  const Real = ((await importOriginal()) as { default: new (...args: unknown[]) => object }).default;
  // A constructor returning either noVNC's RFB or the fake (`new` keeps the returned object).
  function RFB(...args: unknown[]): object {
    return rfbMode.fake ? new FakeRFB(...(args as ConstructorParameters<typeof FakeRFB>)) : new Real(...args);
  }
  return { default: RFB };
});

let pinia: Pinia;
let previous: ClientFactory | undefined;
let removeBridge: () => void = () => undefined;
const unmounts: (() => void)[] = [];

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  removeBridge = installElectronBridge();
  document.body.innerHTML = '';
  rfbMode.fake = false;
  FakeRFB.instances = [];
  vi.useRealTimers();
});

afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
  connectionCloseAll();
  if (previous) setClientFactory(previous);
  previous = undefined;
  removeBridge();
  document.body.innerHTML = '';
});

interface Opened {
  kind: string;
  params: unknown;
  closed: boolean;
}

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(20);
    await nextTick();
  }
}

async function start(rows: DomainRow[], openStream: (kind: string, params: unknown) => Promise<unknown>): Promise<HTMLElement> {
  const client = fakeClient({ 'domain.list': () => rows });
  Object.assign(client.asClient(), { openStream });
  previous = setClientFactory(async () => client.asClient());
  useConnectionsStore().start();
  await flush();
  const el = document.createElement('div');
  document.body.append(el);
  const props = { conn: 'local', name: 'vm1' };
  const app = createApp(VncViewer, props);
  app.use(pinia);
  app.mount(el);
  unmounts.push(() => app.unmount());
  await flush();
  return el;
}

function buttonNames(root: ParentNode): string[] {
  return [...root.querySelectorAll('button')].map((b) => (b.textContent ?? '').replace(/\s+/g, ' ').replace('▾', '').trim());
}

describe('VncViewer', () => {
  it('shows the canvas container and its toolbar, and closes the stream (only) when unmounted', async () => {
    const opened: Opened[] = [];
    const el = await start([runningRow('vm1', 3)], async (kind, params) => {
      const o: Opened = { kind, params, closed: false };
      opened.push(o);
      return {
        socket: {},
        bufferedAmount: 0,
        send: () => undefined,
        onData: () => ({ dispose: () => undefined }),
        onClose: () => ({ dispose: () => undefined }),
        close: () => void (o.closed = true),
      };
    });
    expect(opened.map((o) => [o.kind, o.params])).toEqual([['console.vnc', { ref: 'vm1' }]]);
    const screen = el.querySelector('[aria-label="Graphical console of vm1"]');
    expect(screen).not.toBeNull();
    expect(screen?.getAttribute('data-connected')).toBe('false');
    const select = el.querySelector('select');
    expect(el.querySelector(`label[for="${select?.id}"]`)?.textContent).toBe('Scaling');
    expect([...(select?.options ?? [])].map((o) => o.text.trim())).toEqual(['Always', 'Only when fullscreen', 'Never']);
    expect(buttonNames(el)).toEqual(['Resize to VM', 'Fullscreen', 'Send Key', 'Take screenshot', 'Paste as keys']);
    unmounts.pop()!();
    await flush();
    expect(opened[0]!.closed).toBe(true);
  });

  it('asks for the VNC password in the viewer and sends it; a wrong one shows an error and is not retried', async () => {
    rfbMode.fake = true;
    let asked = 0;
    const el = await start([runningRow('vm1', 3)], async () => {
      asked += 1;
      return { socket: {}, bufferedAmount: 0, send: () => undefined, onData: () => ({ dispose: () => undefined }), onClose: () => ({ dispose: () => undefined }), close: () => undefined };
    });
    expect(asked).toBe(1);
    expect(el.querySelector('form')).toBeNull();
    const first = FakeRFB.instances[0]!;
    expect(first.options.credentials).toBeUndefined();

    first.fire('credentialsrequired', { types: ['password'] });
    await flush();
    expect(el.textContent).toContain('This console is protected by a password.');
    const input = el.querySelector<HTMLInputElement>('form input')!;
    expect(input.type).toBe('password');
    expect(el.querySelector(`label[for="${input.id}"]`)?.textContent?.trim()).toBe('VNC password');
    expect(buttonNames(el.querySelector('form')!)).toEqual(['Connect']);
    expect(document.activeElement).toBe(input);

    input.value = 's3cret';
    input.dispatchEvent(new Event('input'));
    el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
    expect(first.sent).toEqual([{ password: 's3cret' }]);
    expect(el.querySelector('form')).toBeNull();

    // Rejected: noVNC fires securityfailure, then disconnect.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    first.fire('securityfailure', { status: 1, reason: 'Authentication failed' });
    first.fire('disconnect', { clean: false });
    await flush();
    expect(el.textContent).toContain('Wrong VNC password.');
    expect(el.querySelector('form input')).not.toBeNull();
    await vi.advanceTimersByTimeAsync(5000); // past the first backoff steps
    await flush();
    expect(asked).toBe(1);
    expect(FakeRFB.instances).toHaveLength(1);
    expect(el.textContent).not.toContain('reconnecting');

    // Submitting again reconnects, with the new password.
    const again = el.querySelector<HTMLInputElement>('form input')!;
    again.value = 'right';
    again.dispatchEvent(new Event('input'));
    el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
    expect(asked).toBe(2);
    const second = FakeRFB.instances[1]!;
    expect(second.options.credentials).toEqual({ password: 'right' });
    second.fire('connect');
    await flush();
    expect(el.querySelector('form')).toBeNull();
    expect(el.textContent).not.toContain('Wrong VNC password.');

    // An automatic reconnect (the connection dropped) reuses the remembered password.
    second.fire('disconnect', { clean: false });
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(asked).toBe(3);
    expect(FakeRFB.instances[2]!.options.credentials).toEqual({ password: 'right' });
    vi.useRealTimers();
  });

  it('says so instead of showing a canvas when the domain has no display', async () => {
    let asked = 0;
    const el = await start([runningRow('vm1', 3)], async () => {
      asked += 1;
      throw new RemoteError('NoDisplay', 'vm1 has no vfb', undefined, 'stream console.vnc');
    });
    expect(el.textContent).toContain('This domain has no graphical console');
    expect(el.querySelector('[aria-label="Graphical console of vm1"]')).toBeNull();
    await flush();
    expect(asked).toBe(1);
  });
});
