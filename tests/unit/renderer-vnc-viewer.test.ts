// @vitest-environment happy-dom
// The graphical console against a fake engine: what it shows before and without a display. (The
// RFB handshake itself is noVNC's; the byte adapter is tested in renderer-vnc-channel.test.ts.)

import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, nextTick } from 'vue';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { DomainRow } from '../../renderer/src/api/types.js';
import VncViewer from '../../renderer/src/components/console/VncViewer.vue';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { fakeClient, installElectronBridge, runningRow, settle } from './renderer-fakes.js';

let pinia: Pinia;
let previous: ClientFactory | undefined;
let removeBridge: () => void = () => undefined;
const unmounts: (() => void)[] = [];

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  removeBridge = installElectronBridge();
  document.body.innerHTML = '';
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
