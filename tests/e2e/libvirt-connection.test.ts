// A libvirt host beside the local Dom0 engine, as a user meets it in Chromium: "Add connection"
// with a libvirt URI, its domains in the manager next to "localhost (Dom0)", and a libvirt
// domain's graphical console showing the guest's screen. Real xend (web mode), real libvirtd,
// the test guest booted by libvirt.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { connectLibvirt } from '../../engine/libvirt/index.js';
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

/** libvirt's own screenshot of the guest (virsh screenshot: PNG from QEMU ≥ 7.1, else PPM), base64. */
function virshScreenshot(name: string): { png?: string; ppm?: string } {
  const dir = mkdtempSync('/tmp/dom0-shot-');
  try {
    const file = join(dir, 'screen');
    virsh('screenshot', name, '--file', file);
    const buf = readFileSync(file);
    return buf.subarray(0, 4).toString('latin1') === '\x89PNG' ? { png: buf.toString('base64') } : { ppm: buf.toString('base64') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Share of lit pixels on which the viewer's canvas and libvirt's screenshot agree (same size required). */
function matchFraction(p: Page, name: string, shot: { png?: string; ppm?: string }): Promise<number> {
  return p.evaluate(
    async ({ label, shot }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[aria-label="${label}"] canvas`);
      if (!canvas || canvas.width === 0) return 0;
      let width: number;
      let height: number;
      let ref: Uint8ClampedArray | Uint8Array;
      let step: number;
      if (shot.png) {
        const img = new Image();
        img.src = `data:image/png;base64,${shot.png}`;
        await img.decode();
        const c = document.createElement('canvas');
        [c.width, c.height] = [img.width, img.height];
        c.getContext('2d')!.drawImage(img, 0, 0);
        [width, height, ref, step] = [img.width, img.height, c.getContext('2d')!.getImageData(0, 0, img.width, img.height).data, 4];
      } else {
        const bytes = Uint8Array.from(atob(shot.ppm!), (ch) => ch.charCodeAt(0));
        const head = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(new TextDecoder('latin1').decode(bytes.subarray(0, 64)));
        if (!head) return 0;
        [width, height, ref, step] = [Number(head[1]), Number(head[2]), bytes.subarray(head[0].length), 3];
      }
      if (canvas.width !== width || canvas.height !== height) return 0;
      const b = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      let lit = 0;
      let same = 0;
      for (let i = 0, j = 0; i < b.length; i += 4, j += step) {
        const [r, g, bl] = [ref[j]!, ref[j + 1]!, ref[j + 2]!];
        if (r + g + bl <= 60 && b[i]! + b[i + 1]! + b[i + 2]! <= 60) continue;
        lit++;
        if (Math.abs(r - b[i]!) < 16 && Math.abs(g - b[i + 1]!) < 16 && Math.abs(bl - b[i + 2]!) < 16) same++;
      }
      return lit < 500 ? 0 : same / lit;
    },
    { label: `Graphical console of ${name}`, shot },
  );
}

/** Waits until the guest's serial shell prompts (it has booted), through libvirt's console stream. */
async function guestBooted(name: string): Promise<void> {
  const conn = await connectLibvirt('qemu:///system');
  try {
    const { dom } = await conn.client.call('DomainLookupByName', { name });
    const serial = await conn.client.openStream('DomainOpenConsole', { dom, dev_name: null, flags: 1 });
    let text = '';
    serial.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const poke = setInterval(() => serial.write('\r'), 1000);
    try {
      await waitUntil('the guest prompts on its serial console', () => text.includes('guest# '), 120_000);
    } finally {
      clearInterval(poke);
      serial.destroy();
    }
  } finally {
    await conn.close();
  }
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
    await expect.poll(() => litPixels(page, NAME), { timeout: 90_000, interval: 500 }).toBeGreaterThan(500);
    // Booted to its shell on tty1 (fbcon): the viewer shows what libvirt's own screenshot shows.
    await guestBooted(NAME);
    await expect.poll(async () => matchFraction(page, NAME, virshScreenshot(NAME)), { timeout: 60_000, interval: 1000 }).toBeGreaterThan(0.9);
    expect(virshState(NAME)).toBe('running');
  });

  test('Pause and Resume in the manager act on the libvirt domain (virsh agrees)', async () => {
    await page.getByRole('button', { name: 'Back to Manager' }).click();
    const row = page.getByRole('row', { name: NAME, exact: true });
    await row.getByRole('rowheader').or(row.getByRole('cell').first()).first().click();
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Paused');
    expect(virshState(NAME)).toBe('paused');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Running');
    expect(virshState(NAME)).toBe('running');
  });
});
