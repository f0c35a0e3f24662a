// @vitest-environment happy-dom
// "Add connection" for a libvirt URI against a fake engine: the engine's refusal shown as it is,
// an unknown host key shown with its fingerprint and accepted by a click (sent back as
// acceptHostKey), the new connection then in the store as a libvirt connection linked to its
// adapter endpoint (`?connection=<id>` on the local engine's URL).

import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, nextTick } from 'vue';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import { connectionCloseAll, setClientFactory, type ClientFactory } from '../../renderer/src/api/connection.js';
import AddConnectionDialog from '../../renderer/src/components/connection/AddConnectionDialog.vue';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { fakeClient, installElectronBridge, settle, type FakeClient } from './renderer-fakes.js';

let pinia: Pinia;
let previous: ClientFactory | undefined;
let removeBridge: () => void = () => undefined;
const unmounts: (() => void)[] = [];
const endpoints: string[] = [];

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  removeBridge = installElectronBridge();
  document.body.innerHTML = '';
  endpoints.length = 0;
});

afterEach(() => {
  for (const u of unmounts.splice(0)) u();
  connectionCloseAll();
  if (previous) setClientFactory(previous);
  removeBridge();
});

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(20);
    await nextTick();
  }
}

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const button = (name: string) => [...document.querySelectorAll('button')].find((b) => text(b) === name)!;

const FP = 'SHA256:n7w8c7cV7CAhK3gqkGp1o1k6pYpM0Lw0nZb6s9mY0xY';
const URI = 'qemu+ssh://root@server.example/system';
const row = { id: 'lv-1234abcd', kind: 'libvirt', uri: URI, label: 'QEMU/KVM: root@server.example', autoconnect: true, state: 'connected' };

it('shows an unknown host key’s fingerprint, and accepting it adds the connection', async () => {
  const engine: FakeClient = fakeClient({
    'domain.list': () => [],
    'connection.list': () => [],
    'connection.info': () => ({ kind: 'dom0', uri: 'dom0:///', hostname: 'h', methods: [], consoles: [] }),
    'connection.add': (p) => {
      const { acceptHostKey } = p as { acceptHostKey?: string };
      if (acceptHostKey !== FP) throw new RemoteError('HostKeyUnknown', `${URI}: the host key of server.example is not known (${FP}). Check this fingerprint…`, { fingerprint: FP, kind: 'host-key-unknown' });
      return row;
    },
  });
  previous = setClientFactory(async (endpoint) => {
    endpoints.push(endpoint.url);
    return engine.asClient();
  });
  const connections = useConnectionsStore();
  connections.start();
  await flush();

  const el = document.createElement('div');
  document.body.append(el);
  const app = createApp(AddConnectionDialog, {});
  app.use(pinia);
  app.mount(el);
  unmounts.push(() => app.unmount());
  await nextTick();

  const uri = [...document.querySelectorAll('label')].find((l) => text(l) === 'libvirt URI')!;
  const input = document.getElementById(uri.htmlFor) as HTMLInputElement;
  expect(input.value).toBe('qemu:///system');
  expect([...document.querySelectorAll('datalist option')].map((o) => (o as HTMLOptionElement).value)).toContain('qemu+ssh://root@host/system');
  input.value = URI;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await nextTick();
  button('Connect').click();
  await flush();

  // Refused: the engine's message, the fingerprint, nothing added.
  expect(document.body.textContent).toContain('is not known');
  const keyBox = document.querySelector('[aria-label="Unknown host key"]')!;
  expect(text(keyBox)).toContain(FP);
  expect(connections.connections.map((c) => c.id)).not.toContain(row.id);

  button('Accept key and connect').click();
  await flush();
  const adds = engine.calls.filter((c) => c.method === 'connection.add').map((c) => c.params);
  expect(adds).toEqual([
    { uri: URI, acceptHostKey: undefined },
    { uri: URI, acceptHostKey: FP },
  ]);
  const added = connections.byId(row.id);
  expect(added).toMatchObject({ kind: 'libvirt', name: 'QEMU/KVM: root@server.example', url: URI, hostState: 'connected' });
  // Its domains come from the adapter endpoint on the local engine.
  expect(endpoints.some((u) => u.endsWith(`?connection=${row.id}`))).toBe(true);
});
