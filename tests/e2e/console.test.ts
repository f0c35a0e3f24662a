// The guest consoles as a user meets them: the VNC framebuffer (noVNC) and the serial console
// (xterm.js) in the domain window, in Chromium, against a real xend and a real guest.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { READY } from '../integration/helpers/engine.js';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { launchBrowser, saveScreenshot, startWebEngine, waitUntil, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;

const serialLog = () => readFileSync(join(engine.home, 'run/domains/con-a/serial.log'), 'utf8');

async function openConsole(p: Page): Promise<void> {
  await p.goto(engine.url);
  await p.getByRole('row', { name: 'con-a', exact: true }).dblclick();
  await p.getByRole('tab', { name: 'Console', exact: true }).click();
  const viewer = p.getByLabel('Graphical console of con-a');
  await waitUntil('the VNC viewer connects', async () => (await viewer.getAttribute('data-connected')) === 'true');
}

/** noVNC's screen canvas inside the viewer (the page may hold other, hidden canvases). */
const screen = (p: Page) => p.getByLabel('Graphical console of con-a').locator('canvas').first();

/** How many pixels of the console canvas are not black: a blank screen has none. */
function litPixels(p: Page): Promise<number> {
  return p.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[aria-label="Graphical console of con-a"] canvas');
    if (!canvas || canvas.width === 0) return 0;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 60) lit++;
    return lit;
  });
}

/** Share of the lit pixels on which the viewer's canvas and a screendump PNG agree (same size required). */
function matchFraction(p: Page, pngBase64: string, width: number, height: number): Promise<number> {
  return p.evaluate(
    async ({ pngBase64, width, height }) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[aria-label="Graphical console of con-a"] canvas');
      if (!canvas || canvas.width !== width || canvas.height !== height) return 0;
      const img = new Image();
      img.src = `data:image/png;base64,${pngBase64}`;
      await img.decode();
      const ref = document.createElement('canvas');
      ref.width = width;
      ref.height = height;
      const refCtx = ref.getContext('2d')!;
      refCtx.drawImage(img, 0, 0);
      const a = refCtx.getImageData(0, 0, width, height).data;
      const b = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      // Only pixels that are lit in either image count: a black canvas must not "match" a
      // mostly black text console.
      let lit = 0;
      let same = 0;
      for (let i = 0; i < a.length; i += 4) {
        if (a[i]! + a[i + 1]! + a[i + 2]! <= 60 && b[i]! + b[i + 1]! + b[i + 2]! <= 60) continue;
        lit++;
        if (Math.abs(a[i]! - b[i]!) < 16 && Math.abs(a[i + 1]! - b[i + 1]!) < 16 && Math.abs(a[i + 2]! - b[i + 2]!) < 16) same++;
      }
      return lit < 500 ? 0 : same / lit;
    },
    { pngBase64, width, height },
  );
}

beforeAll(async () => {
  engine = await startWebEngine();
  // on_reboot = preserve: Ctrl+Alt+Del's reboot leaves the domain in state s, where a test can see it.
  expect((await engine.xm('create', engine.guestConfig('con-a', "vfb = ['vnc=1']\nstdvga = 1\non_reboot = 'preserve'"))).code).toBe(0);
  const log = join(engine.home, 'run/domains/con-a/serial.log');
  await waitUntil('the guest has booted', () => existsSync(log) && READY.test(readFileSync(log, 'utf8')));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await openConsole(page);
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

describe('guest consoles', () => {
  test("the framebuffer shows the guest's VGA console: its pixels match QEMU's screendump", async () => {
    await expect.poll(() => litPixels(page), { timeout: 30_000 }).toBeGreaterThan(500);
    const client = await connectUnix(join(engine.home, 'run/xend.sock'), xendMethods);
    try {
      // The viewer trails the guest by a refresh at most: compare until a screendump and the
      // canvas agree (a blinking cursor may differ by a few pixels).
      await expect
        .poll(
          async () => {
            const shot = await client.call('domain.screenshot', { ref: 'con-a' });
            return matchFraction(page, shot.png, shot.width, shot.height);
          },
          { timeout: 30_000 },
        )
        .toBeGreaterThan(0.95);
    } finally {
      await client.close();
    }
    await saveScreenshot(page, 'console-vnc');
  });

  test('text typed into the framebuffer reaches the guest', async () => {
    await screen(page).click();
    // As fingers do it: the viewer sends physical keys, so '>' and 'S' are Shift plus a key.
    await page.keyboard.type('echo typed-in-vnc ', { delay: 20 });
    await page.keyboard.press('Shift+Period');
    await page.keyboard.type(' /dev/tty', { delay: 20 });
    await page.keyboard.press('Shift+KeyS');
    await page.keyboard.type('0', { delay: 20 });
    await page.keyboard.press('Enter');
    await saveScreenshot(page, 'console-typed');
    await expect.poll(serialLog, { timeout: 30_000 }).toContain('typed-in-vnc');
  });

  test('a second viewer at once also shows the screen, and both follow what is typed', async () => {
    const second = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await openConsole(second);
      await expect.poll(() => litPixels(second), { timeout: 30_000 }).toBeGreaterThan(500);
      const before = await litPixels(second);
      await screen(page).click();
      await page.keyboard.type('clear', { delay: 20 });
      await page.keyboard.press('Enter');
      await expect.poll(() => litPixels(second), { timeout: 30_000 }).not.toBe(before);
    } finally {
      await second.close();
    }
    // Closing that viewer left the guest running.
    expect((await engine.xm('list', 'con-a')).stdout).toMatch(/con-a\s+\d+\s+128\s+1\s+(r-----|-b----)/);
  });

  test('the serial tab replays the boot log and runs a command typed into it', async () => {
    await page.getByRole('tab', { name: 'Serial', exact: true }).click();
    const term = page.getByLabel('Serial console of con-a');
    await expect.poll(() => term.getAttribute('data-connected'), { timeout: 30_000 }).toBe('true');
    await expect.poll(() => term.textContent(), { timeout: 30_000 }).toContain('DOM0-GUEST-READY');
    await term.click();
    await page.keyboard.type('echo serial-$((2+3))', { delay: 20 });
    await page.keyboard.press('Enter');
    await expect.poll(() => term.textContent(), { timeout: 30_000 }).toContain('serial-5');
    await saveScreenshot(page, 'console-serial');
  });

  test('Send Key ▸ Ctrl+Alt+Del reaches the guest', async () => {
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    await expect.poll(() => page.getByLabel('Graphical console of con-a').getAttribute('data-connected'), { timeout: 60_000 }).toBe('true');
    await page.getByRole('button', { name: 'Send Key' }).click();
    await page.getByRole('menuitem', { name: 'Ctrl+Alt+Del' }).click();
    // busybox init reboots on Ctrl+Alt+Del; on_reboot = preserve leaves the domain shut down (s).
    await expect.poll(async () => (await engine.xm('list', 'con-a')).stdout, { timeout: 60_000 }).toMatch(/---s--/);
  });

  test('a console with vncpasswd asks for the password, refuses a wrong one, opens with the right one', async () => {
    expect((await engine.xm('create', engine.guestConfig('con-pw', "vfb = ['vnc=1,vncpasswd=s3cret']\nstdvga = 1"))).code).toBe(0);
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await p.goto(engine.url);
      await p.getByRole('row', { name: 'con-pw', exact: true }).dblclick();
      await p.getByRole('tab', { name: 'Console', exact: true }).click();
      const field = p.getByLabel('VNC password');
      await field.fill('wrong');
      await p.getByRole('button', { name: 'Connect', exact: true }).click();
      await expect.poll(() => p.getByText('Wrong VNC password.').count(), { timeout: 30_000 }).toBeGreaterThan(0);
      await field.fill('s3cret');
      await p.getByRole('button', { name: 'Connect', exact: true }).click();
      await expect.poll(() => p.getByLabel('Graphical console of con-pw').getAttribute('data-connected'), { timeout: 30_000 }).toBe('true');
    } finally {
      await p.close();
    }
  });

  test('the framebuffer reconnects by itself when the domain restarts; the serial tab follows the new domain', async () => {
    expect((await engine.xm('create', engine.guestConfig('con-r', "vfb = ['vnc=1']\nstdvga = 1"))).code).toBe(0);
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await p.goto(engine.url);
      await p.getByRole('row', { name: 'con-r', exact: true }).dblclick();
      await p.getByRole('tab', { name: 'Console', exact: true }).click();
      const viewer = p.getByLabel('Graphical console of con-r');
      await expect.poll(() => viewer.getAttribute('data-connected'), { timeout: 60_000 }).toBe('true');
      const idBefore = (await engine.xm('domid', 'con-r')).stdout.trim();
      // The power button only reboots once the guest's acpid runs (it starts before the ready
      // marker): on a loaded machine 11 s of uptime is not enough to be sure of that.
      const log = join(engine.home, 'run/domains/con-r/serial.log');
      await waitUntil('con-r has booted', () => existsSync(log) && READY.test(readFileSync(log, 'utf8')), 120_000);
      // Xen's restart-loop guard destroys a domain that reboots within 10 s of starting.
      await expect.poll(async () => Number(/(\d+):(\d+)$/.exec((await engine.xm('uptime', 'con-r')).stdout.trim())?.[2] ?? 0), { timeout: 60_000, interval: 1000 }).toBeGreaterThan(11);
      expect((await engine.xm('reboot', 'con-r')).code).toBe(0);
      await expect.poll(async () => (await engine.xm('domid', 'con-r')).stdout.trim(), { timeout: 60_000 }).not.toBe(idBefore);
      await expect.poll(() => viewer.getAttribute('data-connected'), { timeout: 60_000 }).toBe('true');
      await p.getByRole('tab', { name: 'Serial', exact: true }).click();
      const term = p.getByLabel('Serial console of con-r');
      await expect.poll(() => term.getAttribute('data-connected'), { timeout: 60_000 }).toBe('true');
      await expect.poll(() => term.textContent(), { timeout: 60_000 }).toContain('DOM0-GUEST-READY');
    } finally {
      await p.close();
    }
  });
});
