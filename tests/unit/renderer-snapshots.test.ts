// @vitest-environment happy-dom
// The Snapshots tab against a fake engine: the tree with time, state and the current one; Take
// snapshot sends the name and description and shows the new list; Revert asks first; the engine's
// refusal of raw disks is shown as it said it.

import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, nextTick } from 'vue';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import type { Snapshot } from '../../engine/protocol/common/xend-api-lifecycle.js';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import DomainWindow from '../../renderer/src/components/domain/DomainWindow.vue';
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
  removeBridge();
});

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(20);
    await nextTick();
  }
}

function text(el: Element | null | undefined): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function button(root: ParentNode, name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].filter((b) => text(b) === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const at = Date.UTC(2026, 10, 28, 12, 0, 0);

it('lists the tree, takes a snapshot, reverts after asking, and shows refusals', async () => {
  let list: Snapshot[] = [
    { name: 'base', description: 'fresh', createdAt: at, state: 'shutoff', current: false, vmStateSize: 0 },
    { name: 'work', description: '', createdAt: at + 1000, state: 'running', parent: 'base', current: true, vmStateSize: 5 },
  ];
  const client = fakeClient({
    'domain.list': () => [runningRow('vm1', 3)],
    'domain.getConfig': () => {
      throw new RemoteError('NoSuchDomain', 'not needed here');
    },
    'snapshot.list': () => list,
    'snapshot.create': (p) => {
      const { name, description } = p as { name: string; description: string };
      if (name === 'raw') throw new RemoteError('UnsupportedDisk', 'snapshots need qcow2 disks, and xvda (/img/a.img, raw) is not');
      const s: Snapshot = { name, description, createdAt: at + 2000, state: 'running', parent: 'work', current: true, vmStateSize: 5 };
      list = [...list.map((x) => ({ ...x, current: false })), s];
      return s;
    },
    'snapshot.revert': () => list[0],
  });
  previous = setClientFactory(async () => client.asClient());
  useConnectionsStore().start();
  await flush();
  const el = document.createElement('div');
  document.body.append(el);
  const props: Record<string, unknown> = { conn: 'local', name: 'vm1', tab: 'snapshots' };
  const app = createApp(DomainWindow, props);
  app.use(pinia);
  app.mount(el);
  unmounts.push(() => app.unmount());
  await flush();
  const panel = el.querySelector<HTMLElement>('#domain-panel-snapshots')!;
  const rows = () => [...panel.querySelectorAll('tbody tr')].map((r) => [...r.querySelectorAll('td')].map((td) => text(td)));
  expect(rows().map((r) => [r[0], r[2], r[3]])).toEqual([
    ['base', 'Shut off (disks only)', 'fresh'],
    ['work (current)', 'Running (with memory)', ''],
  ]);
  // The child is indented under its parent.
  expect(panel.querySelectorAll<HTMLElement>('tbody td:first-child')[1]!.style.paddingLeft).toBe('1.75rem');

  const name = panel.querySelector<HTMLInputElement>('#snapshot-name')!;
  const take = button(panel, 'Take snapshot');
  expect(take.disabled).toBe(true);
  name.value = 'before-upgrade';
  name.dispatchEvent(new Event('input'));
  const desc = panel.querySelector<HTMLInputElement>('#snapshot-description')!;
  desc.value = 'just in case';
  desc.dispatchEvent(new Event('input'));
  await flush();
  take.click();
  await flush();
  expect(client.calls.find((c) => c.method === 'snapshot.create')?.params).toEqual({ domain: 'vm1', name: 'before-upgrade', description: 'just in case' });
  expect(rows().at(-1)![0]).toBe('before-upgrade (current)');

  // Revert asks first; Cancel sends nothing.
  (panel.querySelectorAll('tbody tr')[0] as HTMLElement).click();
  await flush();
  button(panel.querySelector('.form-actions')!, 'Revert').click();
  await flush();
  const dialog = () => document.querySelector('dialog, [role="dialog"], [role="alertdialog"]');
  expect(text(dialog())).toContain('Revert vm1 to snapshot “base”? Changes since then are lost.');
  button(dialog()!, 'Cancel').click();
  await flush();
  expect(client.count('snapshot.revert')).toBe(0);
  button(panel.querySelector('.form-actions')!, 'Revert').click();
  await flush();
  button(dialog()!, 'Revert').click();
  await flush();
  expect(client.calls.find((c) => c.method === 'snapshot.revert')?.params).toEqual({ domain: 'vm1', name: 'base' });

  name.value = 'raw';
  name.dispatchEvent(new Event('input'));
  await flush();
  button(panel, 'Take snapshot').click();
  await flush();
  expect(text(panel.querySelector('[role="alert"]'))).toContain('snapshots need qcow2 disks, and xvda (/img/a.img, raw) is not');
});
