// @vitest-environment happy-dom
// The Migrate dialog against a fake engine: the fields are checked before anything is sent (bad
// destination, port, downtime), Migrate sends host, port, live, copy storage, downtime and
// bandwidth to domain.migrate, an indeterminate bar shows while it runs, and the result shows the
// downtime the engine reports; a refusal is shown as the engine said it.

import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, nextTick } from 'vue';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import MigrateDialog from '../../renderer/src/components/domain/MigrateDialog.vue';
import { parseDestination, parseOptionalInt } from '../../renderer/src/components/domain/migrate-form.js';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { deferred, fakeClient, installElectronBridge, runningRow, settle } from './renderer-fakes.js';

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

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

function button(root: ParentNode, name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].filter((b) => text(b) === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function input(dialog: Element, label: string): HTMLInputElement {
  const l = [...dialog.querySelectorAll('label')].find((x) => text(x).startsWith(label))!;
  const el = l.htmlFor ? dialog.querySelector<HTMLInputElement>(`[id="${l.htmlFor}"]`) : l.querySelector('input');
  expect(el).not.toBeNull();
  return el!;
}

function fill(el: HTMLInputElement, value: string): void {
  el.value = value;
  el.dispatchEvent(new Event('input'));
}

it('parses destinations and optional numbers as the engine will', () => {
  expect(parseDestination('host2')).toEqual({ host: 'host2' });
  expect(parseDestination(' 10.0.0.2:8002 ')).toEqual({ host: '10.0.0.2', port: 8002 });
  expect(parseDestination('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  expect(parseDestination('host;rm -rf /')).toHaveProperty('error');
  expect(parseDestination('h:70000')).toHaveProperty('error');
  expect(parseOptionalInt('', 1, 10)).toEqual({ value: undefined });
  expect(parseOptionalInt('7', 1, 10)).toEqual({ value: 7 });
  expect(parseOptionalInt('0', 1, 10)).toHaveProperty('error');
  expect(parseOptionalInt('2.5', 1, 10)).toHaveProperty('error');
});

it('checks the fields, sends the options, shows progress, then the downtime achieved; refusals as said', async () => {
  const pending = deferred<unknown>();
  let refuse = true;
  const client = fakeClient({
    'domain.list': () => [runningRow('vm1', 3)],
    'domain.migrate': () => {
      if (refuse) throw new RemoteError('RelocationRefused', 'set (xend-relocation-token ...) in xend.conf');
      return pending.promise;
    },
  });
  previous = setClientFactory(async () => client.asClient());
  useConnectionsStore().start();
  await flush();
  const el = document.createElement('div');
  document.body.append(el);
  const props: Record<string, unknown> = { conn: 'local', name: 'vm1' };
  const app = createApp(MigrateDialog, props);
  app.use(pinia);
  app.mount(el);
  unmounts.push(() => app.unmount());
  await flush();
  const dialog = document.querySelector('[role="dialog"]')!;
  expect(text(dialog.querySelector('h2'))).toBe('Migrate vm1');
  const migrate = () => button(dialog, 'Migrate');
  expect(migrate().disabled).toBe(true);

  fill(input(dialog, 'Destination'), 'bad host');
  await flush();
  expect(migrate().disabled).toBe(true);
  expect(text(dialog)).toContain('Give a host name or address, optionally :port.');
  fill(input(dialog, 'Destination'), 'host2:8003');
  fill(input(dialog, 'Maximum downtime'), '0');
  await flush();
  expect(migrate().disabled).toBe(true);
  expect(text(dialog)).toContain('A whole number from 1 to 60000.');
  fill(input(dialog, 'Maximum downtime'), '300');
  fill(input(dialog, 'Bandwidth'), '50');
  input(dialog, 'Copy storage').click();
  await flush();
  expect(migrate().disabled).toBe(false);

  migrate().click();
  await flush();
  expect(text(dialog.querySelector('[role="alert"]'))).toContain('set (xend-relocation-token ...) in xend.conf');
  expect(dialog.querySelector('progress')).toBeNull();

  refuse = false;
  migrate().click();
  await flush();
  expect(client.calls.filter((c) => c.method === 'domain.migrate').at(-1)?.params).toEqual({
    ref: 'vm1',
    host: 'host2',
    port: 8003,
    live: true,
    copyStorage: true,
    downtimeMs: 300,
    bandwidthMiB: 50,
  });
  // No progress events from the engine: an indeterminate bar (no value) while it runs.
  const bar = dialog.querySelector('progress');
  expect(bar).not.toBeNull();
  expect(bar!.hasAttribute('value')).toBe(false);
  expect(button(dialog, 'Migrating…').disabled).toBe(true);

  pending.resolve({ domid: 4, downtimeMs: 42, totalMs: 2500, bytes: 3 * 1048576 });
  await flush();
  expect(dialog.querySelector('progress')).toBeNull();
  expect(text(dialog.querySelector('[role="status"]'))).toBe('vm1 now runs on host2:8003: 2.5 s in all, guest stopped for 42 ms, 3.0 MiB sent.');
  expect(button(dialog, 'Close').disabled).toBe(false);
});
