// @vitest-environment happy-dom
// The New VM wizard in a DOM against a fake engine: the OS list search, the OS's recommendations,
// a step refused with its message under the field, the description sent on Finish, and the
// desktop app's native file dialog used for the local engine.

import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createApp, nextTick } from 'vue';
import { connectionCloseAll, setClientFactory, type ClientFactory } from '../../renderer/src/api/connection.js';
import NewVmWizard from '../../renderer/src/components/wizard/NewVmWizard.vue';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { fakeClient, installElectronBridge, row, settle, type FakeClient } from './renderer-fakes.js';

const OS = [
  { id: 'debian12', name: 'Debian 12 (Bookworm)', family: 'linux', memory: 1024, disk: 20, vcpus: 2, diskBus: 'virtio', nic: 'virtio' },
  { id: 'debian11', name: 'Debian 11 (Bullseye)', family: 'linux', memory: 1024, disk: 20, vcpus: 2, diskBus: 'virtio', nic: 'virtio' },
  { id: 'fedora40', name: 'Fedora 40', family: 'linux', memory: 2048, disk: 20, vcpus: 2, diskBus: 'virtio', nic: 'virtio' },
  { id: 'generic', name: 'Generic or unknown OS', family: 'other', memory: 1024, disk: 10, vcpus: 1, diskBus: 'sata', nic: 'e1000' },
];

let pinia: Pinia;
let previous: ClientFactory | undefined;
let removeBridge: () => void = () => undefined;
let unmount: () => void = () => undefined;

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  document.body.innerHTML = '';
});

afterEach(() => {
  unmount();
  connectionCloseAll();
  if (previous) setClientFactory(previous);
  removeBridge();
  delete (globalThis as { dom0?: unknown }).dom0;
});

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(20);
    await nextTick();
  }
}

async function open(bridge: Record<string, unknown> = {}): Promise<{ client: FakeClient; created: ReturnType<typeof vi.fn> }> {
  removeBridge = installElectronBridge();
  Object.assign((globalThis as { dom0?: Record<string, unknown> }).dom0!, bridge);
  const client = fakeClient({
    'domain.list': () => [row('debian12')],
    'install.osList': () => OS,
    'install.poolInfo': () => ({ path: '/data/images', freeBytes: 100 * 1024 ** 3, hostMemoryMiB: 4096, hostCpus: 2 }),
    'install.detect': (p) => ({ os: OS[0], label: 'Debian 12.5.0 amd64 n', detail: `volume label of ${(p as { cdrom: string }).cdrom}` }),
    'install.create': (p) => ({ name: (p as { description: { name: string } }).description.name, os: { id: 'debian12', name: 'Debian 12' }, osFrom: 'given', config: '', path: '/c/x.cfg', newDisks: [], phase: 'running', warnings: [] }),
  });
  previous = setClientFactory(async () => client.asClient());
  useConnectionsStore().start();
  await flush();
  const created = vi.fn();
  const el = document.createElement('div');
  el.id = 'app';
  document.body.append(el);
  const app = createApp(NewVmWizard, { conn: 'local', onCreated: created });
  app.use(pinia);
  app.mount(el);
  unmount = () => app.unmount();
  await flush();
  return { client, created };
}

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const dialog = () => document.querySelector('[role="dialog"]')!;
const button = (name: string) => [...dialog().querySelectorAll('button')].find((b) => text(b) === name)!;
const input = (label: string) => document.getElementById([...dialog().querySelectorAll('label')].find((l) => text(l) === label)!.htmlFor) as HTMLInputElement;

async function click(el: HTMLElement): Promise<void> {
  el.click();
  await flush();
}

async function type(el: HTMLInputElement, value: string): Promise<void> {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  await flush();
}

test('PXE: the searchable OS list, its recommendations, the free-space check, and Finish', async () => {
  const { client, created } = await open();
  const pxe = [...dialog().querySelectorAll('label')].find((l) => text(l) === 'Network boot (PXE)')!.querySelector('input')!;
  await click(pxe);
  await click(button('Forward'));
  expect(text(dialog().querySelector('h2'))).toBe('New VM — Step 2 of 5');
  // Nothing to detect from: the list shows, searchable.
  await type(input('Search'), 'debian');
  const list = dialog().querySelector<HTMLSelectElement>('select[aria-label="Operating systems"]')!;
  expect([...list.options].map((o) => o.value)).toEqual(['debian12', 'debian11']);
  list.value = 'debian12';
  list.dispatchEvent(new Event('change'));
  await click(button('Forward'));
  // The OS's recommendation, within the host's 2 CPUs.
  expect(input('Memory (MiB)').value).toBe('1024');
  expect(input('CPUs').value).toBe('2');
  await type(input('CPUs'), '4');
  await click(button('Forward'));
  expect(text(document.getElementById(input('CPUs').getAttribute('aria-describedby')!))).toBe('The host has 2 CPUs.');
  await type(input('CPUs'), '1');
  await click(button('Forward'));
  expect(input('Size (GiB)').value).toBe('20');
  await type(input('Size (GiB)'), '500');
  await click(button('Forward'));
  expect(text(document.getElementById(input('Size (GiB)').getAttribute('aria-describedby')!))).toBe('Only 100.0 GiB are free in the pool.');
  await type(input('Size (GiB)'), '8');
  await click(button('Forward'));
  // debian12 exists on this connection: the suggestion avoids it.
  expect(input('Name').value).toBe('debian12-2');
  await click(button('Finish'));
  expect(client.calls.find((c) => c.method === 'install.create')?.params).toEqual({
    description: { name: 'debian12-2', memory: 1024, vcpus: 1, osVariant: 'debian12', source: { kind: 'pxe' }, disks: [{ kind: 'new', sizeGiB: 8 }], network: { kind: 'nat' }, graphics: 'vnc', start: true },
  });
  expect(created).toHaveBeenCalledWith({ conn: 'local', name: 'debian12-2', customize: false });
});

test('in the desktop app, Browse… opens the native dialog and the OS is detected from the chosen ISO', async () => {
  const pickFile = vi.fn(async () => '/home/me/debian.iso');
  const { client } = await open({ pickFile });
  await click(button('Forward'));
  await click(button('Browse…'));
  expect(pickFile).toHaveBeenCalledWith({ title: 'Choose an ISO image' });
  expect(input('ISO image').value).toBe('/home/me/debian.iso');
  expect(client.calls.find((c) => c.method === 'install.detect')?.params).toEqual({ cdrom: '/home/me/debian.iso' });
  expect(text(dialog().querySelector('[role="status"]'))).toContain('Detected Debian 12 (Bookworm)');
  // No engine file browser was asked.
  expect(client.count('files.list')).toBe(0);
});
