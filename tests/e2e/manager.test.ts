// The manager window as a user drives it: Debian's Chromium on the real renderer, served by a real
// xend in web mode, with real guests. Elements are found by what a user reads (role + name).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SerialConsole } from '../integration/helpers/serial.js';
import { READY } from '../integration/helpers/engine.js';
import { launchBrowser, saveScreenshot, startWebEngine, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;

const row = (name: string) => page.getByRole('row', { name, exact: true });
const button = (name: string) => page.getByRole('button', { name, exact: true });

/** Wait (bounded) until the guest's serial log shows its first prompt. */
async function booted(name: string): Promise<void> {
  const log = join(engine.home, 'run/domains', name, 'serial.log');
  await expect.poll(() => existsSync(log) && READY.test(readFileSync(log, 'utf8')), { timeout: 60_000, interval: 200 }).toBe(true);
}

async function select(name: string): Promise<void> {
  await row(name).getByRole('rowheader').or(row(name).getByRole('cell').first()).first().click();
}

beforeAll(async () => {
  engine = await startWebEngine();
  for (const name of ['e2e-a', 'e2e-b']) expect((await engine.xm('create', engine.guestConfig(name))).code).toBe(0);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(engine.url);
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

describe('manager window', () => {
  test('the list shows the two running guests, Domain-0 and their state', async () => {
    await expect.poll(() => row('e2e-a').textContent(), { timeout: 30_000 }).toContain('Running');
    expect(await row('e2e-b').textContent()).toContain('Running');
    expect(await row('Domain-0').textContent()).toContain('Running');
    // The token left the address bar once read.
    expect(page.url()).not.toContain('token=');
    await saveScreenshot(page, 'manager');
  });

  test('each running guest and the host have a live CPU sparkline fed by the engine', async () => {
    const spark = page.getByRole('img', { name: /^CPU usage of e2e-b:/ });
    const samples = async () => ((await spark.getAttribute('data-samples')) ?? '').split(',').filter(Boolean).map(Number);
    await expect.poll(async () => (await samples()).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    for (const v of await samples()) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(100);
    }
    expect(await page.getByRole('img', { name: /^CPU usage of Domain-0:/ }).count()).toBe(1);
  });

  test('Pause makes the state read Paused and stops the guest clock; Resume runs it again', async () => {
    await booted('e2e-a');
    const serial = await SerialConsole.attach(join(engine.home, 'run/domains/e2e-a'));
    try {
      const before = Number((await serial.run('cat /proc/uptime')).trim().split(/\s+/)[0]);
      const hostBefore = Date.now();
      await select('e2e-a');
      await button('Pause').click();
      await expect.poll(() => row('e2e-a').textContent(), { timeout: 30_000 }).toContain('Paused');
      // While paused the guest answers nothing: give it a host-time window to (not) answer.
      const from = serial.text.length;
      serial.send('echo still-"alive"\n');
      await expect(serial.waitFor('still-alive', { from, timeoutMs: 2500 })).rejects.toThrow(/no .* within/);
      await button('Resume').click();
      await expect.poll(() => row('e2e-a').textContent(), { timeout: 30_000 }).toContain('Running');
      await serial.waitFor('still-alive', { from });
      const after = Number((await serial.run('cat /proc/uptime')).trim().split(/\s+/)[0]);
      const hostSeconds = (Date.now() - hostBefore) / 1000;
      expect(hostSeconds - (after - before)).toBeGreaterThan(1.5);
    } finally {
      serial.close();
    }
  });

  test('the list keeps up when a guest is started from xm in another terminal', async () => {
    expect((await engine.xm('create', engine.guestConfig('e2e-c'))).code).toBe(0);
    await expect.poll(() => row('e2e-c').textContent(), { timeout: 30_000 }).toContain('Running');
  });

  test('Shut Down (one click on the split button) ends with the guest gone', async () => {
    await booted('e2e-c');
    await select('e2e-c');
    await button('Shut Down').click();
    await expect.poll(() => row('e2e-c').count(), { timeout: 60_000 }).toBe(0);
    expect((await engine.xm('list')).stdout).not.toContain('e2e-c');
  });

  test('editing the memory of a stopped domain persists to its config file', async () => {
    expect((await engine.xm('new', engine.guestConfig('e2e-def'))).code).toBe(0);
    await expect.poll(() => row('e2e-def').textContent(), { timeout: 30_000 }).toContain('Shut off');
    await row('e2e-def').dblclick();
    await page.getByRole('tab', { name: 'Details' }).click();
    const memory = page.getByRole('spinbutton', { name: 'Memory (MiB)' }).or(page.getByLabel('Memory (MiB)', { exact: true })).first();
    await memory.fill('96');
    await button('Apply').click();
    const cfg = join(engine.home, 'config/domains/e2e-def.cfg');
    await expect.poll(() => readFileSync(cfg, 'utf8'), { timeout: 30_000 }).toMatch(/^memory = 96$/m);
    await saveScreenshot(page, 'domain-details');
    await page.getByRole('tab', { name: 'Config' }).click();
    await expect.poll(() => page.getByText('-m size=96M').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await saveScreenshot(page, 'domain-config');
    await button('Back to Manager').click();
    await expect.poll(() => row('e2e-def').textContent(), { timeout: 30_000 }).toContain('96');
  });

  test('Delete with "delete associated storage" removes the domain and its disk image', async () => {
    // In the default pool: a web client may delete only files inside the pools or the data dir.
    const image = join(engine.home, 'data/images/e2e-del.img');
    mkdirSync(dirname(image), { recursive: true });
    writeFileSync(image, Buffer.alloc(4 * 1024 * 1024));
    expect((await engine.xm('new', engine.guestConfig('e2e-del', `disk = ['file:${image},xvda,w']`))).code).toBe(0);
    await expect.poll(() => row('e2e-del').count(), { timeout: 30_000 }).toBe(1);
    await select('e2e-del');
    await button('Delete').click();
    const dialog = page.getByRole('dialog', { name: 'Delete domain' });
    const box = dialog.getByRole('checkbox', { name: image });
    expect(await box.isChecked()).toBe(true);
    await saveScreenshot(page, 'delete-dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => row('e2e-del').count(), { timeout: 30_000 }).toBe(0);
    expect(existsSync(image)).toBe(false);
    expect(existsSync(join(engine.home, 'config/domains/e2e-del.cfg'))).toBe(false);
  });

  test('Shut Down ▸ Force Off asks first, then the guest is gone at once', async () => {
    await select('e2e-b');
    await button('Shut Down options').click();
    await page.getByRole('menuitem', { name: 'Force Off', exact: true }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByRole('button', { name: 'Force Off', exact: true }).click();
    await expect.poll(() => row('e2e-b').count(), { timeout: 30_000 }).toBe(0);
    expect((await engine.xm('list')).stdout).not.toContain('e2e-b');
  });
});
