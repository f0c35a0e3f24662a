// The Performance tab as a user sees it: Debian's Chromium on the real renderer, a real xend in
// web mode and a real guest. The CPU chart's data (read from the chart's own read-outs, not its
// pixels) rises when a CPU burner starts in the guest, the history is still there after a page
// reload, and network I/O of a user-mode NIC says it is not measurable.

import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SerialConsole } from '../integration/helpers/serial.js';
import { READY } from '../integration/helpers/engine.js';
import { launchBrowser, saveScreenshot, startWebEngine, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;
let serial: SerialConsole;

const cpuChart = () => page.locator('figure[data-chart="CPU usage"]');

async function chartData(attr: 'data-latest' | 'data-max' | 'data-points'): Promise<Record<string, number | null>> {
  return JSON.parse((await cpuChart().getAttribute(attr)) ?? '{}') as Record<string, number | null>;
}

beforeAll(async () => {
  engine = await startWebEngine();
  expect((await engine.xm('create', engine.guestConfig('perf-e2e', "vif = ['']"))).code).toBe(0);
  serial = await SerialConsole.attach(join(engine.home, 'run/domains/perf-e2e'));
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(engine.url);
});

afterAll(async () => {
  serial?.close();
  await browser?.close();
  await engine?.stop();
});

describe('Performance tab', () => {
  test("the CPU chart's guest CPU rises when a burner starts in the guest", async () => {
    await page.getByRole('row', { name: 'perf-e2e', exact: true }).dblclick();
    await page.getByRole('tab', { name: 'Performance' }).click();
    await expect.poll(async () => (await chartData('data-points'))['Guest CPU'] ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    // Idle first (the guest has booted): low.
    await expect.poll(async () => (await chartData('data-latest'))['Guest CPU'] ?? 100, { timeout: 60_000 }).toBeLessThan(30);
    serial.send('while :; do :; done &\n');
    // Busy all the time: running (Guest CPU) or waiting for a host CPU that others use too (Steal).
    const busy = async () => {
      const l = await chartData('data-latest');
      return (l['Guest CPU'] ?? 0) >= 25 && (l['Guest CPU'] ?? 0) + (l['Steal'] ?? 0) >= 85;
    };
    await expect.poll(busy, { timeout: 60_000, interval: 250 }).toBe(true);
    expect(await page.getByRole('img', { name: /^CPU usage: Guest CPU \d/ }).count()).toBe(1);
    await saveScreenshot(page, 'performance');
  });

  test('memory, disk and network charts are there; user-mode networking is not measurable', async () => {
    for (const title of ['Memory usage', 'Disk I/O', 'Network I/O']) await expect.poll(() => page.locator(`figure[data-chart="${title}"]`).count()).toBe(1);
    const mem = JSON.parse((await page.locator('figure[data-chart="Memory usage"]').getAttribute('data-latest')) ?? '{}') as Record<string, number>;
    expect(mem['Balloon']).toBe(128);
    await expect.poll(() => page.getByTestId('network-note').textContent()).toContain('Not measurable');
  });

  test('after a page reload the chart shows the history, the burner included', async () => {
    await page.reload();
    await page.getByRole('tab', { name: 'Performance' }).waitFor();
    // The 10-minute window holds everything since the guest started; it comes from the engine's history.
    await page.getByRole('radio', { name: '10 min' }).check();
    await expect.poll(async () => (await chartData('data-points'))['Guest CPU'] ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    expect((await chartData('data-max'))['Guest CPU']).toBeGreaterThanOrEqual(25);
  });
});
