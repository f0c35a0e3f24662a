// "Paste as keys" in the graphical console, as a user meets it: text put on the clipboard is typed
// into the guest's VGA console and must arrive exactly as written, Shift included (it once arrived
// as "echo paste-ok-4991=100 'quoted' `/x\wc -c"). Real xend, real guest, Chromium.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { READY } from '../integration/helpers/engine.js';
import { launchBrowser, saveScreenshot, startWebEngine, waitUntil, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const serialLog = () => readFileSync(join(engine.home, 'run/domains/paste-a/serial.log'), 'utf8');

beforeAll(async () => {
  engine = await startWebEngine();
  expect((await engine.xm('create', engine.guestConfig('paste-a', "vfb = ['vnc=1']\nstdvga = 1"))).code).toBe(0);
  await waitUntil('the guest has booted', () => existsSync(join(engine.home, 'run/domains/paste-a/serial.log')) && READY.test(serialLog()), 120_000);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(engine.url).origin });
  page = await context.newPage();
  await page.goto(engine.url);
  await page.getByRole('row', { name: 'paste-a', exact: true }).dblclick();
  await page.getByRole('tab', { name: 'Console', exact: true }).click();
  const viewer = page.getByLabel('Graphical console of paste-a');
  await waitUntil('the VNC viewer connects', async () => (await viewer.getAttribute('data-connected')) === 'true');
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

async function paste(text: string): Promise<void> {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  const button = page.getByRole('button', { name: 'Paste as keys' });
  await button.click();
  // The button reads "Pasting…" while it types, and "Paste as keys" again once all is sent.
  await expect.poll(() => button.isEnabled(), { timeout: 60_000 }).toBe(true);
}

describe('paste as keys', () => {
  test('every printable ASCII character reaches the guest as typed', async () => {
    await page.getByLabel('Graphical console of paste-a').locator('canvas').first().click();
    // On tty1, a cat that copies each line it reads to the serial port, where the test reads it.
    await page.keyboard.type('cat ', { delay: 20 });
    await page.keyboard.press('Shift+Period');
    await page.keyboard.type(' /dev/tty', { delay: 20 });
    await page.keyboard.press('Shift+KeyS');
    await page.keyboard.type('0', { delay: 20 });
    await page.keyboard.press('Enter');
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    const line = `<${printable}>`;
    await paste(`${line}\n`);
    await expect.poll(serialLog, { timeout: 60_000 }).toContain(line);
    // The report's own line, with a line break typed by the paste too.
    const report = `echo Paste-OK_$((1+1)) "quoted" ~/x|wc -c`;
    await paste(`${report}\n`);
    await expect.poll(serialLog, { timeout: 60_000 }).toContain(report);
    await saveScreenshot(page, 'console-paste');
  });
});
