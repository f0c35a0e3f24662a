// The Snapshots tab as a user drives it, on a real guest with a qcow2 disk served by a real xend in
// web mode: take a snapshot, change the disk from the serial console, revert in the tab, and the
// guest's disk has its old content again; the tree shows what xm snapshot-list shows.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { READY } from '../integration/helpers/engine.js';
import { SerialConsole } from '../integration/helpers/serial.js';
import { launchBrowser, saveScreenshot, startWebEngine, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;
let serial: SerialConsole;

beforeAll(async () => {
  engine = await startWebEngine();
  const disk = join(engine.home, 'snap.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  expect((await engine.xm('create', engine.guestConfig('snap-e2e', `disk = ['tap:qcow2:${disk},xvda,w']\nvif = ['']`))).code).toBe(0);
  serial = await SerialConsole.attach(join(engine.home, 'run/domains/snap-e2e'));
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(engine.url);
});

afterAll(async () => {
  serial?.close();
  await browser?.close();
  await engine?.stop();
});

test('take a snapshot in the tab, overwrite the disk, revert: the old block is back', async () => {
  await serial.run('printf "gui-old-content!" > /dev/vda; sync');
  await page.getByRole('row', { name: 'snap-e2e', exact: true }).dblclick();
  await page.getByRole('tab', { name: 'Snapshots', exact: true }).click();
  await expect.poll(() => page.getByText('No snapshots yet.').count(), { timeout: 30_000 }).toBe(1);
  await page.getByLabel('Snapshot name', { exact: true }).fill('gui-1');
  await page.getByLabel('Snapshot description', { exact: true }).fill('from the browser');
  await page.getByRole('button', { name: 'Take snapshot', exact: true }).click();
  const snapRow = page.getByRole('row', { name: /gui-1 \(current\)/ });
  await expect.poll(() => snapRow.count(), { timeout: 60_000 }).toBe(1);
  expect(await snapRow.textContent()).toContain('Running (with memory)');
  expect((await engine.xm('snapshot-list', 'snap-e2e')).stdout).toMatch(/^gui-1 \*\s+\S+ \S+\s+running\s+from the browser$/m);
  await saveScreenshot(page, 'snapshots');

  await serial.run('printf "gui-NEW-content!" > /dev/vda; sync');
  await snapRow.getByRole('cell').first().click();
  await page.locator('.form-actions').getByRole('button', { name: 'Revert', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revert', exact: true }).click();
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'Working…' }).count(), { timeout: 60_000 }).toBe(0);
  expect((await serial.run('dd if=/dev/vda bs=16 count=1 2>/dev/null')).trim()).toBe('gui-old-content!');
});
