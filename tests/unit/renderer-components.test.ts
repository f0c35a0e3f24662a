// @vitest-environment happy-dom
// The renderer's components in a DOM against a fake engine: mounted with Vue's own createApp and
// a fresh Pinia, the stores and the API layer running as in the app. Controls are found by their
// accessible names (button text, <label> text), as a user or a screen reader finds them.

// The root tsconfig (engine, main, tests) does not hold the renderer's declarations of *.vue files.

import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, nextTick } from 'vue';
import type { Component } from 'vue';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import { connectionCloseAll, setClientFactory } from '../../renderer/src/api/connection.js';
import type { ClientFactory } from '../../renderer/src/api/connection.js';
import type { DomainConfig, DomainConfigResult, DomainRow } from '../../renderer/src/api/types.js';
import DomainWindow from '../../renderer/src/components/domain/DomainWindow.vue';
import ManagerWindow from '../../renderer/src/components/manager/ManagerWindow.vue';
import { useConnectionsStore } from '../../renderer/src/stores/connections.js';
import { fakeClient, installElectronBridge, row, runningRow, settle } from './renderer-fakes.js';
import type { FakeClient } from './renderer-fakes.js';

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

function config(over: Partial<DomainConfig> = {}): DomainConfig {
  return {
    name: 'vm1',
    memory: 256,
    vcpus: 1,
    builder: 'hvm',
    boot: 'c',
    disk: [],
    vif: [],
    vfb: [],
    stdvga: false,
    nographic: false,
    localtime: false,
    acpi: true,
    apic: true,
    pae: true,
    usb: false,
    on_poweroff: 'destroy',
    on_reboot: 'restart',
    on_crash: 'restart',
    ...over,
  };
}

function configResult(c: DomainConfig): DomainConfigResult {
  return { text: `name = "${c.name}"\n`, path: `/etc/xen/${c.name}.cfg`, config: c, qemu: '-name vm1' };
}

/** Connects the stores to a fake engine that lists `rows` and answers `more`. */
async function startEngine(rows: DomainRow[], more: Record<string, (p: unknown) => unknown> = {}): Promise<FakeClient> {
  const client = fakeClient({ 'domain.list': () => rows, ...more });
  previous = setClientFactory(async () => client.asClient());
  useConnectionsStore().start();
  await flush();
  return client;
}

/** Lets the fake engine answer and Vue render what came of it. */
async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(20);
    await nextTick();
  }
}

/** Mounts a component with the test's Pinia into a fresh div in the page. */
function mount(component: Component, props: Record<string, unknown> = {}): HTMLElement {
  const el = document.createElement('div');
  el.id = 'app';
  document.body.append(el);
  const app = createApp(component, props);
  app.use(pinia);
  app.mount(el);
  unmounts.push(() => app.unmount());
  return el;
}

function text(el: Element | null | undefined): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** The one button named `name` inside `root`. */
function button(root: ParentNode, name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].filter((b) => text(b) === name);
  expect(found, `one button named “${name}”`).toHaveLength(1);
  return found[0]!;
}

/** The control a <label> with exactly this text names (by for=, or wrapped in it). */
function labelled<T extends HTMLElement = HTMLInputElement>(root: ParentNode, name: string): T {
  const labels = [...root.querySelectorAll('label')].filter((l) => text(l) === name);
  expect(labels, `one label “${name}”`).toHaveLength(1);
  const label = labels[0]!;
  const control = label.htmlFor ? document.getElementById(label.htmlFor) : label.querySelector('input, select, textarea');
  expect(control, `the control labelled “${name}”`).toBeTruthy();
  return control as T;
}

/** What aria-describedby points at, as text. */
function description(control: HTMLElement): string {
  const ids = (control.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  return ids.map((id) => text(document.getElementById(id))).join(' ');
}

async function type(control: HTMLInputElement | HTMLTextAreaElement, value: string): Promise<void> {
  control.value = value;
  control.dispatchEvent(new Event('input', { bubbles: true }));
  await nextTick();
}

async function toggle(box: HTMLInputElement): Promise<void> {
  box.click();
  await nextTick();
}

async function blur(control: HTMLElement): Promise<void> {
  control.dispatchEvent(new FocusEvent('blur'));
  await nextTick();
}

function domainRow(root: ParentNode, name: string): HTMLTableRowElement {
  const tr = root.querySelector<HTMLTableRowElement>(`tr[aria-label="${name}"]`);
  expect(tr, `the row of ${name}`).toBeTruthy();
  return tr!;
}

function updates(client: FakeClient): unknown[] {
  return client.calls.filter((c) => c.method === 'domain.update').map((c) => c.params);
}

describe('manager toolbar and domain table', () => {
  const rows = [row('off'), runningRow('on', 3), row('nap', { status: 'paused', state: '--p---', domid: 4 })];

  function enabled(root: ParentNode): Record<'Run' | 'Pause' | 'Resume', boolean> {
    const toolbar = root.querySelector('.toolbar')!;
    return {
      Run: !button(toolbar, 'Run').disabled,
      Pause: !button(toolbar, 'Pause').disabled,
      Resume: !button(toolbar, 'Resume').disabled,
    };
  }

  it('enables Run, Pause and Resume by the state of the selected row', async () => {
    await startEngine(rows);
    const root = mount(ManagerWindow);
    await flush();
    expect(enabled(root)).toEqual({ Run: false, Pause: false, Resume: false });

    domainRow(root, 'off').click();
    await nextTick();
    expect(domainRow(root, 'off').getAttribute('aria-selected')).toBe('true');
    expect(enabled(root)).toEqual({ Run: true, Pause: false, Resume: false });

    domainRow(root, 'on').click();
    await nextTick();
    expect(domainRow(root, 'off').getAttribute('aria-selected')).toBe('false');
    expect(enabled(root)).toEqual({ Run: false, Pause: true, Resume: false });

    domainRow(root, 'nap').click();
    await nextTick();
    expect(enabled(root)).toEqual({ Run: false, Pause: false, Resume: true });
  });

  it('follows the engine: a paused domain that is resumed enables Pause instead of Resume', async () => {
    const list = [row('nap', { status: 'paused', state: '--p---', domid: 4 })];
    const client = await startEngine([], { 'domain.list': () => list, 'domain.unpause': () => null });
    const root = mount(ManagerWindow);
    await flush();
    domainRow(root, 'nap').click();
    await nextTick();
    button(root.querySelector('.toolbar')!, 'Resume').click();
    await flush();
    expect(client.calls.find((c) => c.method === 'domain.unpause')?.params).toEqual({ ref: 'nap' });
    list[0] = runningRow('nap', 4);
    client.emit('domain.changed', { kind: 'unpaused', name: 'nap', domid: 4 });
    await flush();
    expect(enabled(root)).toEqual({ Run: false, Pause: true, Resume: false });
  });
});

describe('Delete dialog', () => {
  const disks: DomainConfig['disk'] = [
    { backend: 'file', target: '/var/lib/dom0/images/vm1.qcow2', format: 'qcow2', vdev: 'xvda', devtype: 'disk', access: 'w' },
    { backend: 'file', target: '/isos/debian.iso', format: 'raw', vdev: 'hdc', devtype: 'cdrom', access: 'r' },
    { backend: 'phy', target: '/dev/vg0/vm1', format: 'raw', vdev: 'xvdb', devtype: 'disk', access: 'w' },
    { backend: 'tap', target: '/shared/base.img', format: 'raw', vdev: 'xvdc', devtype: 'disk', access: 'r' },
  ];

  async function openDelete(): Promise<{ client: FakeClient; dialog: HTMLElement }> {
    const client = await startEngine([row('vm1'), row('vm2')], {
      'domain.getConfig': () => configResult(config({ disk: disks })),
      'domain.delete': () => ({ deleted: ['/var/lib/dom0/images/vm1.qcow2'] }),
    });
    const root = mount(ManagerWindow);
    await flush();
    domainRow(root, 'vm1').click();
    await nextTick();
    button(root.querySelector('.toolbar')!, 'Delete').click();
    await flush();
    const dialog = document.querySelector<HTMLElement>('[role="dialog"]');
    expect(dialog).toBeTruthy();
    return { client, dialog: dialog! };
  }

  it('lists the file-backed disks as checkboxes, the writable ones checked', async () => {
    const { client, dialog } = await openDelete();
    expect(text(document.getElementById(dialog.getAttribute('aria-labelledby')!))).toBe('Delete domain');
    expect(client.calls.find((c) => c.method === 'domain.getConfig')?.params).toEqual({ name: 'vm1' });
    const boxes = [...dialog.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')];
    expect(boxes.map((b) => [text(b.closest('label')), b.checked])).toEqual([
      ['/var/lib/dom0/images/vm1.qcow2', true],
      ['/isos/debian.iso', false],
      ['/shared/base.img', false],
    ]);
    expect(description(labelled(dialog, '/var/lib/dom0/images/vm1.qcow2'))).toBe('xvda · qcow2 · read/write');
    expect(text(dialog)).not.toContain('/dev/vg0/vm1');
  });

  it('deletes the domain with the disks left checked', async () => {
    const { client, dialog } = await openDelete();
    await toggle(labelled(dialog, '/shared/base.img'));
    button(dialog, 'Delete').click();
    await flush();
    expect(client.calls.find((c) => c.method === 'domain.delete')?.params).toEqual({
      name: 'vm1',
      storage: ['/var/lib/dom0/images/vm1.qcow2', '/shared/base.img'],
      force: true,
    });
    expect(document.querySelector('[role="dialog"]')).toBeNull();
  });
});

describe('domain window, Details tab', () => {
  async function openDetails(over: Partial<DomainConfig> = {}, more: Record<string, (p: unknown) => unknown> = {}) {
    let current = config(over);
    const client = await startEngine([row('vm1')], {
      'domain.getConfig': () => configResult(current),
      'domain.update': (p) => {
        const { changes } = p as { changes: { autostart?: boolean } };
        if (changes.autostart !== undefined) current = { ...current, on_xend_start: changes.autostart ? 'start' : undefined };
        return { live: Object.keys(changes), nextBoot: [], path: '/etc/xen/vm1.cfg' };
      },
      ...more,
    });
    const root = mount(DomainWindow, { conn: 'local', name: 'vm1', tab: 'details' });
    await flush();
    const panel = root.querySelector<HTMLElement>('#domain-panel-details')!;
    expect(panel).toBeTruthy();
    return { client, panel };
  }

  it('shows “Memory must be at least 16 MiB.” for 8 MiB and sends nothing', async () => {
    const { client, panel } = await openDetails();
    const memory = labelled(panel, 'Memory (MiB)');
    expect(memory.value).toBe('256');
    const apply = button(panel, 'Apply');
    expect(apply.disabled).toBe(true);

    await type(memory, '8');
    await blur(memory);
    expect(memory.getAttribute('aria-invalid')).toBe('true');
    expect(description(memory)).toBe('Memory must be at least 16 MiB.');
    expect(text(panel.querySelector('.field-error'))).toBe('Memory must be at least 16 MiB.');
    expect(apply.disabled).toBe(true);

    // With a valid change beside it, Apply checks the form and still sends nothing.
    await type(labelled(panel, 'Kernel arguments'), 'console=ttyS0');
    expect(apply.disabled).toBe(false);
    apply.click();
    await flush();
    expect(updates(client)).toEqual([]);
    expect(description(memory)).toBe('Memory must be at least 16 MiB.');
    expect(document.activeElement).toBe(memory);

    await type(memory, '64');
    expect(memory.getAttribute('aria-invalid')).toBeNull();
    apply.click();
    await flush();
    expect(updates(client)).toEqual([{ name: 'vm1', changes: { memory: 64, extra: 'console=ttyS0' } }]);
  });

  it('ticks “Start when the engine starts” from on_xend_start and sends autostart only when changed', async () => {
    const { client, panel } = await openDetails({ on_xend_start: 'start' });
    const box = labelled(panel, 'Start when the engine starts');
    expect(box.type).toBe('checkbox');
    expect(box.checked).toBe(true);
    expect(box.closest('section')?.getAttribute('aria-labelledby')).toBe('details-boot-title');
    const apply = button(panel, 'Apply');
    expect(apply.disabled).toBe(true);

    await toggle(box);
    expect(box.checked).toBe(false);
    expect(apply.disabled).toBe(false);
    apply.click();
    await flush();
    expect(updates(client)).toEqual([{ name: 'vm1', changes: { autostart: false } }]);
    expect(text(panel.querySelector('[role="status"]'))).toContain('Saved: Start when the engine starts.');
    // The re-read config (on_xend_start gone) keeps the box clear, with nothing left to apply.
    expect(labelled(panel, 'Start when the engine starts').checked).toBe(false);
    expect(apply.disabled).toBe(true);

    await toggle(box);
    apply.click();
    await flush();
    expect(updates(client)[1]).toEqual({ name: 'vm1', changes: { autostart: true } });
  });

  it('leaves the box clear without on_xend_start = "start"', async () => {
    const { panel } = await openDetails({ on_xend_start: 'ignore' });
    expect(labelled(panel, 'Start when the engine starts').checked).toBe(false);
  });
});

describe('domain window, Overview tab', () => {
  async function openOverview(update: (p: unknown) => unknown, over: Partial<DomainConfig> = { description: 'Web server' }) {
    let current = config(over);
    const client = await startEngine([row('vm1')], {
      'domain.getConfig': () => configResult(current),
      'domain.update': (p) => {
        const result = update(p);
        const { changes } = p as { changes: { description?: string } };
        current = { ...current, description: changes.description === '' ? undefined : changes.description };
        return result;
      },
    });
    const root = mount(DomainWindow, { conn: 'local', name: 'vm1', tab: 'overview' });
    await flush();
    const panel = root.querySelector<HTMLElement>('#domain-panel-overview')!;
    return { client, panel };
  }

  const saved = () => ({ live: ['description'], nextBoot: [], path: '/etc/xen/vm1.cfg' });

  it('shows the description in a textarea and saves an edit with its own button', async () => {
    const { client, panel } = await openOverview(saved);
    const area = labelled<HTMLTextAreaElement>(panel, 'Description');
    expect(area.tagName).toBe('TEXTAREA');
    expect(area.value).toBe('Web server');
    const save = button(panel, 'Save description');
    expect(save.disabled).toBe(true);

    await type(area, 'Web server\nfor the intranet  ');
    expect(save.disabled).toBe(false);
    save.click();
    await flush();
    expect(updates(client)).toEqual([{ name: 'vm1', changes: { description: 'Web server\nfor the intranet' } }]);
    expect(area.value).toBe('Web server\nfor the intranet');
    expect(text(panel.querySelector('[role="status"]'))).toBe('Description saved.');
    expect(save.disabled).toBe(true);
  });

  it('clears the description with an empty text', async () => {
    const { client, panel } = await openOverview(saved);
    await type(labelled<HTMLTextAreaElement>(panel, 'Description'), '');
    button(panel, 'Save description').click();
    await flush();
    expect(updates(client)).toEqual([{ name: 'vm1', changes: { description: '' } }]);
    expect(labelled<HTMLTextAreaElement>(panel, 'Description').value).toBe('');
  });

  it('shows the engine’s error next to the description, and keeps the text', async () => {
    const { client, panel } = await openOverview(() => {
      throw new RemoteError('ConfigError', 'vm1.cfg: the description is not allowed here.', undefined, 'domain.update');
    });
    const area = labelled<HTMLTextAreaElement>(panel, 'Description');
    await type(area, 'Rejected');
    button(panel, 'Save description').click();
    await flush();
    expect(updates(client)).toHaveLength(1);
    expect(text(panel.querySelector('[role="alert"] .alert-message'))).toBe('vm1.cfg: the description is not allowed here.');
    expect(area.value).toBe('Rejected');
    expect(text(panel.querySelector('[role="status"]'))).toBe('');
  });

  it('says when the text is too long, and does not send it', async () => {
    const { client, panel } = await openOverview(saved, {});
    const area = labelled<HTMLTextAreaElement>(panel, 'Description');
    expect(area.value).toBe('');
    await type(area, 'x'.repeat(4097));
    expect(area.getAttribute('aria-invalid')).toBe('true');
    expect(description(area)).toMatch(/At most 4096 characters/);
    expect(button(panel, 'Save description').disabled).toBe(true);
    expect(updates(client)).toEqual([]);
  });
});
