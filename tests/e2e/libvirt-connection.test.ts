// A libvirt host beside the local Dom0 engine, as a user meets it in Chromium: "Add connection"
// with a libvirt URI, its domains in the manager next to "localhost (Dom0)", and a libvirt
// domain's graphical console showing the guest's screen. Real xend (web mode), real libvirtd,
// the test guest booted by libvirt.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureLibvirtd, libvirtUnavailable, virsh, virshCleanup, virshDefine, virshState } from '../integration/helpers/libvirtd.js';
import { launchBrowser, saveScreenshot, startWebEngine, waitUntil, type WebEngine } from './helpers/web-engine.js';

const skip = libvirtUnavailable();
if (skip) console.warn(`libvirt e2e skipped: ${skip}`);

const NAME = `dom0-lve-${Math.random().toString(36).slice(2, 8)}`;
let engine: WebEngine;
let browser: Browser;
let page: Page;

/** How many pixels of the console canvas are lit: a blank (or never drawn) screen has none. */
function litPixels(p: Page, name: string): Promise<number> {
  return p.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`[aria-label="${label}"] canvas`);
    if (!canvas || canvas.width === 0) return 0;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 60) lit++;
    return lit;
  }, `Graphical console of ${name}`);
}

describe.skipIf(skip !== null)('a libvirt connection in the manager', () => {
  beforeAll(async () => {
    await ensureLibvirtd();
    virshDefine(NAME);
    virsh('start', NAME);
    engine = await startWebEngine();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  afterAll(async () => {
    if (page) await saveScreenshot(page, 'libvirt-connection').catch(() => undefined);
    await browser?.close();
    await engine?.stop();
    virshCleanup(NAME);
  });

  test('added by URI, its domains show beside the local engine, and its console shows the guest', async () => {
    await page.goto(engine.url);
    await expect.poll(() => page.getByText('localhost (Dom0)').count()).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add connection' });
    await dialog.getByLabel('A libvirt host (QEMU/KVM, local or over SSH)').check();
    await dialog.getByLabel('libvirt URI').fill('qemu:///system');
    await dialog.getByRole('button', { name: 'Connect', exact: true }).click();
    await expect.poll(() => dialog.count(), { timeout: 30_000 }).toBe(0);

    // The libvirt host's group, with the domain virsh started, beside localhost (Dom0).
    const row = page.getByRole('row', { name: NAME, exact: true });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.getByText('qemu:///system', { exact: true }).count()).toBeGreaterThan(0);
    const groups = await page.locator('.connection-name').allTextContents();
    expect(groups).toEqual(['localhost (Dom0)', 'QEMU/KVM']);
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Running');

    // Its graphical console, through the adapter: the guest's screen is drawn.
    await row.dblclick();
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    const viewer = page.getByLabel(`Graphical console of ${NAME}`);
    await waitUntil('the VNC viewer connects', async () => (await viewer.getAttribute('data-connected')) === 'true', 60_000);
    // The guest boots to a shell on tty1 (fbcon): text on the screen.
    await expect.poll(() => litPixels(page, NAME), { timeout: 90_000, interval: 500 }).toBeGreaterThan(500);
    expect(virshState(NAME)).toBe('running');
  });
});
