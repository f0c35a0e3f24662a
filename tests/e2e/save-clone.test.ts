// Save/Restore and Clone as a user drives them in the manager, on real guests of a real xend in
// web mode. Save is a managed save: the row shows "Saved", Run becomes Restore, and the guest
// carries on where it was (its counter goes on, its uptime grew, no second boot marker). Clone of
// a stopped domain through the dialog defines the new domain, which appears in the list, selected;
// both say what they did.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { READY } from '../integration/helpers/engine.js';
import { SerialConsole } from '../integration/helpers/serial.js';
import { launchBrowser, saveScreenshot, startWebEngine, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  engine = await startWebEngine();
  expect((await engine.xm('new', engine.guestConfig('save-e2e'))).code).toBe(0);
  const disk = join(engine.home, 'src.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  expect((await engine.xm('new', engine.guestConfig('clone-src', `disk = ['tap:qcow2:${disk},xvda,w']`))).code).toBe(0);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  await page.goto(engine.url);
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

function lastCount(text: string): number {
  const all = [...text.matchAll(/count (\d+)/g)];
  return Number(all[all.length - 1]?.[1] ?? 0);
}

async function uptime(serial: SerialConsole): Promise<number> {
  return Number((await serial.run('cat /proc/uptime')).trim().split(/\s+/)[0]);
}

test('Save from the toolbar shows Saved; Restore brings the guest back where it was', async () => {
  expect((await engine.xm('start', 'save-e2e')).code).toBe(0);
  const runtimeDir = join(engine.home, 'run/domains/save-e2e');
  let serial = await SerialConsole.attach(runtimeDir);
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  serial.send('(i=0; while true; do i=$((i+1)); echo "count $i"; sleep 0.2; done) &\n');
  await serial.waitFor(/count 5\b/, { timeoutMs: 60_000 });
  const upBefore = await uptime(serial);

  const row = page.getByRole('row', { name: 'save-e2e', exact: true });
  await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Running');
  await row.click();
  const toolbar = page.locator('.toolbar');
  await toolbar.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(() => row.textContent(), { timeout: 120_000 }).toContain('Saved');
  // It says where the memory went.
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved save-e2e' }).textContent()).toContain(join(engine.home, 'data/save/save-e2e.save'));
  const countAtSave = lastCount(serial.text);
  serial.close();
  expect(existsSync(join(engine.home, 'data/save/save-e2e.save'))).toBe(true);
  expect((await engine.xm('list', 'save-e2e')).stdout).toMatch(/save-e2e/);
  await saveScreenshot(page, 'save-clone-saved');

  await toolbar.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect.poll(() => row.textContent(), { timeout: 120_000 }).toContain('Running');
  serial = await SerialConsole.attach(runtimeDir);
  try {
    const next = await serial.waitFor(/count (\d+)/, { timeoutMs: 60_000 });
    const firstAfter = Number(next[1]);
    // Where it was (give or take the counts of the save's pre-copy), not from 1 again.
    expect(firstAfter).toBeGreaterThan(Math.max(countAtSave - 10, 4));
    await serial.waitFor(new RegExp(`count ${firstAfter + 3}\\b`), { timeoutMs: 60_000 });
    expect(await uptime(serial)).toBeGreaterThan(upBefore);
    expect(serial.text).not.toContain('DOM0-GUEST-READY');
  } finally {
    serial.close();
  }
  // Restored: the managed save is consumed, the row is an ordinary running domain.
  expect(existsSync(join(engine.home, 'data/save/save-e2e.save'))).toBe(false);
  expect(await row.textContent()).not.toContain('Saved');
});

test('Clone… of a stopped domain: the new domain appears in the list', async () => {
  const source = page.getByRole('row', { name: 'clone-src', exact: true });
  await source.click();
  await page.locator('.toolbar').getByRole('button', { name: 'Clone…', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Clone clone-src' });
  await dialog.getByLabel('Name', { exact: true }).fill('clone-copy');
  await dialog.getByLabel(/Linked clone/).check();
  await dialog.getByRole('button', { name: 'Clone', exact: true }).click();
  await expect.poll(() => page.getByRole('row', { name: 'clone-copy', exact: true }).count(), { timeout: 60_000 }).toBe(1);
  await expect.poll(() => dialog.count()).toBe(0);
  expect(await page.getByRole('row', { name: 'clone-copy', exact: true }).textContent()).toContain('Shut off');
  // It says what it made, and the new domain is the selection.
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'Cloned clone-src as clone-copy' }).count()).toBe(1);
  expect(await page.getByRole('row', { name: 'clone-copy', exact: true }).getAttribute('aria-selected')).toBe('true');
  const cfg = (await engine.xm('list', '--long', 'clone-copy')).stdout;
  expect(cfg).toContain('clone-copy');
  await saveScreenshot(page, 'save-clone-cloned');
});

test("the domain window's Save and Restore: the header's state follows", async () => {
  await page.getByRole('row', { name: 'save-e2e', exact: true }).dblclick();
  const header = page.locator('.window-header');
  await expect.poll(() => header.textContent(), { timeout: 30_000 }).toContain('Running');
  await header.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(() => header.textContent(), { timeout: 120_000 }).toContain('Saved');
  await expect.poll(() => page.locator('#domain-panel-overview').textContent()).toContain('Saved');
  expect(await header.getByRole('button', { name: 'Clone…', exact: true }).isDisabled()).toBe(true);
  await saveScreenshot(page, 'save-clone-window-saved');
  await header.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect.poll(() => header.textContent(), { timeout: 120_000 }).toContain('Running');
  expect(existsSync(join(engine.home, 'data/save/save-e2e.save'))).toBe(false);
  expect(await header.getByRole('button', { name: 'Migrate…', exact: true }).isEnabled()).toBe(true);
});
