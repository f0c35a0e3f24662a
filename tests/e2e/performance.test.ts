// The Performance tab as a user sees it: Debian's Chromium on the real renderer, a real xend in
// web mode and a real guest. The CPU chart's data (read from the chart's own read-outs, not its
// pixels) rises when a CPU burner starts in the guest, the history is still there after a page
// reload, and network I/O of a user-mode NIC says it is not measurable.

import { readFileSync } from 'node:fs';
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

describe('manager graph columns, Host overview and preferences', () => {
  test('View adds a Memory usage column with a sparkline per running domain; network says not measurable', async () => {
    await page.getByRole('button', { name: 'Back to Manager' }).click();
    await page.getByRole('button', { name: 'View' }).click();
    await page.getByRole('menuitemcheckbox', { name: 'Graph: Memory usage' }).click();
    await page.getByRole('button', { name: 'View' }).click();
    await page.getByRole('menuitemcheckbox', { name: 'Graph: Network I/O' }).click();
    await expect.poll(() => page.getByRole('columnheader', { name: 'Memory usage' }).count()).toBe(1);
    const mem = page.getByRole('img', { name: /^Memory usage of perf-e2e:/ });
    await expect.poll(async () => ((await mem.getAttribute('data-samples')) ?? '').split(',').filter(Boolean).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(await page.getByRole('img', { name: /^Memory usage of Domain-0:/ }).count()).toBe(1);
    await expect.poll(() => page.getByRole('row', { name: 'perf-e2e', exact: true }).textContent()).toContain('not measurable');
    // The choice is remembered.
    await page.reload();
    await expect.poll(() => page.getByRole('columnheader', { name: 'Memory usage' }).count(), { timeout: 30_000 }).toBe(1);
  });

  test("the Host overview shows Domain-0's CPU and memory and the domains stacked", async () => {
    await page.getByRole('button', { name: 'View' }).click();
    await page.getByRole('menuitemcheckbox', { name: 'Host overview' }).click();
    const stacked = page.locator('figure[data-chart="Domains\' host CPU usage (stacked)"]');
    await expect.poll(async () => JSON.parse((await stacked.getAttribute('data-points')) ?? '{}')['perf-e2e'] ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    const mem = page.locator('figure[data-chart="Domain-0 memory usage"]');
    await expect.poll(async () => JSON.parse((await mem.getAttribute('data-latest')) ?? '{}')['Used'] ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await saveScreenshot(page, 'host-overview');
  });

  test('Performance preferences change the engine\'s interval', async () => {
    await page.getByRole('button', { name: 'View' }).click();
    await page.getByRole('menuitem', { name: 'Performance preferences…' }).click();
    const field = page.getByLabel('Update interval (seconds)');
    await expect.poll(() => field.inputValue()).toBe('1');
    await field.fill('2');
    await page.getByRole('dialog').getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const saved = JSON.parse(readFileSync(join(engine.home, 'config/stats.json'), 'utf8')) as { interval: number };
    expect(saved.interval).toBe(2);
  });
});
