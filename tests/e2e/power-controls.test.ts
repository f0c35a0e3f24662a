// What a virt-manager user reaches for first, in Chromium against a real xend and a real guest:
// the domain window's own Run / Pause / Resume / Shut Down ▾, Run on a shut-off domain's console,
// the Shut Down split button (one click shuts down, the arrow offers the rest), readable buttons
// under the pointer, a console that uses the window, and a CPU time column that moves by itself.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { READY } from '../integration/helpers/engine.js';
import { launchBrowser, saveScreenshot, startWebEngine, waitUntil, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;

const serialLog = (name: string) => {
  const path = join(engine.home, `run/domains/${name}/serial.log`);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
};
const xmState = async (name: string) => /^\S+\s+\d*\s+\d+\s+\d+\s+(\S+)/m.exec((await engine.xm('list', name)).stdout.split('\n')[1] ?? '')?.[1] ?? '';

/** WCAG contrast ratio of an element's text against its own background, as drawn now. */
function contrastOf(el: Locator): Promise<number> {
  return el.evaluate((node) => {
    const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r!) + 0.7152 * ch(g!) + 0.0722 * ch(b!);
    };
    const style = getComputedStyle(node);
    const a = lum(parse(style.color));
    const b = lum(parse(style.backgroundColor));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}

beforeAll(async () => {
  engine = await startWebEngine();
  expect((await engine.xm('new', engine.guestConfig('pw-a', "vfb = ['vnc=1']\nstdvga = 1"))).code).toBe(0);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(engine.url);
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

describe('power controls', () => {
  test("a shut-off domain's console offers Run, and Run starts it and shows its screen", async () => {
    await page.getByRole('row', { name: 'pw-a', exact: true }).dblclick();
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    const panel = page.locator('#domain-panel-console');
    await expect.poll(() => panel.textContent(), { timeout: 30_000 }).toContain('The domain is not running.');
    await saveScreenshot(page, 'power-stopped-console');
    await panel.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => page.getByLabel('Graphical console of pw-a').getAttribute('data-connected'), { timeout: 60_000 }).toBe('true');
    await expect.poll(() => page.locator('.window-header').textContent(), { timeout: 30_000 }).toContain('Running');
    await waitUntil('pw-a has booted', () => READY.test(serialLog('pw-a')), 120_000);
  });

  test('the console uses the window: wide and tall at 1920×1080 and at 1024×640', async () => {
    const screen = page.getByLabel('Graphical console of pw-a');
    for (const [width, height] of [
      [1920, 1080],
      [1024, 640],
    ] as const) {
      await page.setViewportSize({ width, height });
      await expect.poll(async () => (await screen.boundingBox())?.width ?? 0).toBeGreaterThan(width - 64);
      const box = (await screen.boundingBox())!;
      // Below the header, the tabs and the console's toolbar, the rest of the window is the screen,
      // and all of it is on the page (no scrolling to reach its bottom).
      expect(box.height).toBeGreaterThan(height - 170);
      expect(box.y + box.height).toBeLessThanOrEqual(height);
    }
    await saveScreenshot(page, 'power-console-1024');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test("the header's Pause and Resume pause and resume the guest", async () => {
    const header = page.locator('.window-header');
    await header.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => xmState('pw-a'), { timeout: 30_000 }).toMatch(/p/);
    await expect.poll(() => header.textContent()).toContain('Paused');
    await header.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect.poll(() => xmState('pw-a'), { timeout: 30_000 }).not.toMatch(/p/);
    await expect.poll(() => header.textContent()).toContain('Running');
  });

  test('one click on Shut Down shuts the guest down; the console offers Run again', async () => {
    const header = page.locator('.window-header');
    await header.getByRole('button', { name: 'Shut Down', exact: true }).click();
    await expect.poll(() => header.textContent(), { timeout: 60_000 }).toContain('Shut off');
    expect((await engine.xm('list', 'pw-a')).stdout).toMatch(/pw-a\s+128/);
    await expect.poll(() => page.locator('#domain-panel-console').getByRole('button', { name: 'Run', exact: true }).count()).toBe(1);
  });

  test('Shut Down ▾ → Force Off asks first; its confirm button stays readable under the pointer', async () => {
    const header = page.locator('.window-header');
    await header.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => header.textContent(), { timeout: 60_000 }).toContain('Running');
    await header.getByRole('button', { name: 'Shut Down options' }).click();
    await page.getByRole('menuitem', { name: 'Force Off' }).click();
    const dialog = page.getByRole('dialog', { name: 'Force off pw-a?' });
    const forceOff = dialog.getByRole('button', { name: 'Force Off', exact: true });
    await forceOff.hover();
    expect(await contrastOf(forceOff)).toBeGreaterThanOrEqual(4.5);
    await forceOff.click();
    await expect.poll(() => header.textContent(), { timeout: 60_000 }).toContain('Shut off');
  });

  test("the manager's CPU time column moves by itself while the domain runs", async () => {
    await page.locator('.window-header').getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Back to Manager' }).click();
    const row = page.getByRole('row', { name: 'pw-a', exact: true });
    await expect.poll(() => row.textContent(), { timeout: 60_000 }).toContain('Running');
    const cpuCell = row.locator('td').last();
    const first = (await cpuCell.textContent())!.trim();
    // The booting guest burns CPU under TCG: the figure changes with the ticks, no reload.
    await expect.poll(async () => (await cpuCell.textContent())!.trim(), { timeout: 30_000 }).not.toBe(first);
    const seconds = Number.parseFloat((await cpuCell.textContent())!);
    const listed = Number(/(\S+)\s*$/.exec((await engine.xm('list', 'pw-a')).stdout.trim())?.[1]);
    expect(Math.abs(listed - seconds)).toBeLessThan(5);
  });

  test("the manager's Shut Down is a split button: one click shuts down, the arrow opens the menu", async () => {
    const row = page.getByRole('row', { name: 'pw-a', exact: true });
    await row.click();
    // The power button needs the guest's acpid, which runs before the ready marker.
    await waitUntil('pw-a has booted again', () => READY.test(serialLog('pw-a')), 120_000);
    const toolbar = page.locator('.toolbar').first();
    await toolbar.getByRole('button', { name: 'Shut Down options' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Reboot', 'Shut Down', 'Force Reset', 'Force Off']);
    await page.keyboard.press('Escape');
    await toolbar.getByRole('button', { name: 'Shut Down', exact: true }).click();
    await expect.poll(() => row.textContent(), { timeout: 60_000 }).toContain('Shut off');
  });

  test('Details refuses more memory and vCPUs than the host has, and the file keeps its values', async () => {
    await page.getByRole('row', { name: 'pw-a', exact: true }).dblclick();
    await page.getByRole('tab', { name: 'Details', exact: true }).click();
    const panel = page.locator('#domain-panel-details');
    await panel.getByLabel('Memory (MiB)', { exact: true }).fill('999999');
    await page.keyboard.press('Tab');
    await panel.getByLabel('vCPUs', { exact: true }).fill('64');
    await page.keyboard.press('Tab');
    // Nothing valid to save: Apply stays off, and each field says what the host allows.
    expect(await panel.getByRole('button', { name: 'Apply', exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => panel.textContent()).toMatch(/The host has \d+ MiB: give at most that\./);
    expect(await panel.textContent()).toMatch(/The host has \d+ CPUs?: give at most \d+ vCPUs\./);
    const file = readFileSync(join(engine.home, 'config/domains/pw-a.cfg'), 'utf8');
    expect(file).toMatch(/^memory = 128$/m);
    expect(file).not.toContain('999999');
    await page.getByRole('button', { name: 'Back to Manager' }).click();
  });

  test('primary buttons keep a readable label under the pointer (New VM: Forward)', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const forward = page.getByRole('dialog', { name: /New VM/ }).getByRole('button', { name: 'Forward' });
    const before = await contrastOf(forward);
    await forward.hover();
    expect(before).toBeGreaterThanOrEqual(4.5);
    expect(await contrastOf(forward)).toBeGreaterThanOrEqual(4.5);
    await page.keyboard.press('Escape');
  });

  test('keyboard: Enter on a wizard choice goes Forward, focus lands in the new step; Esc closes Performance preferences at once', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByRole('dialog', { name: /Step 1 of 5/ }).getByRole('radio').first().focus();
    await page.keyboard.press('Enter');
    const step2 = page.getByRole('dialog', { name: /Step 2 of 5/ });
    await expect.poll(() => step2.count()).toBe(1);
    const focused = await page.evaluate(() => ({ tag: document.activeElement?.tagName, inDialog: !!document.activeElement?.closest('[role="dialog"]') }));
    expect(focused).toEqual({ tag: 'INPUT', inDialog: true });
    await page.keyboard.press('Escape');
    await expect.poll(() => step2.count()).toBe(0);

    await page.getByRole('button', { name: 'View', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Performance preferences…' }).click();
    const prefs = page.getByRole('dialog', { name: 'Performance preferences' });
    await expect.poll(() => prefs.count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => prefs.count()).toBe(0);
  });
});
