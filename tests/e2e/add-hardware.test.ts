// Add Hardware and Host details as a user drives them: Chromium on the real renderer served by a
// real xend in web mode, a real running guest. A new volume is created and hot-added as a disk
// the guest sees; Host details shows it used by the domain; Remove takes it out of the guest.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SerialConsole } from '../integration/helpers/serial.js';
import { READY } from '../integration/helpers/engine.js';
import { launchBrowser, saveScreenshot, startWebEngine, type WebEngine } from './helpers/web-engine.js';

let engine: WebEngine;
let browser: Browser;
let page: Page;
let serial: SerialConsole | undefined;

const button = (name: string) => page.getByRole('button', { name, exact: true });

beforeAll(async () => {
  engine = await startWebEngine();
  // A defined domain, started: hardware added to it goes live and into its definition.
  expect((await engine.xm('new', engine.guestConfig('hw-a'))).code).toBe(0);
  expect((await engine.xm('start', 'hw-a')).code).toBe(0);
  serial = await SerialConsole.attach(join(engine.home, 'run/domains/hw-a'));
  await serial.waitFor(READY, { timeoutMs: 120_000 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(engine.url);
}, 180_000);

afterAll(async () => {
  serial?.close();
  await browser?.close();
  await engine?.stop();
});

async function guestBlockDevices(): Promise<string> {
  return serial!.run('ls /sys/block');
}

describe('Add Hardware', () => {
  test('a new volume added as a VirtIO disk appears in the running guest and in the definition', async () => {
    const row = page.getByRole('row', { name: 'hw-a', exact: true });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Running');
    await row.dblclick();
    await page.getByRole('tab', { name: 'Details' }).click();
    await button('Add Hardware…').click();
    const dialog = page.getByRole('dialog', { name: 'Add new virtual hardware' });
    await expect.poll(() => dialog.getByLabel('Pool').locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await dialog.getByLabel('Capacity (GiB)').fill('0.0625');
    await dialog.getByLabel('Bus').selectOption('virtio');
    await saveScreenshot(page, 'add-hardware');
    await dialog.getByRole('button', { name: 'Finish' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Disk xvda added to the running guest.' }).count(), { timeout: 60_000 }).toBe(1);
    expect(await dialog.count()).toBe(0);

    const image = join(engine.home, 'data/images/hw-a-xvda.qcow2');
    expect(existsSync(image)).toBe(true);
    await expect.poll(guestBlockDevices, { timeout: 60_000, interval: 500 }).toMatch(/\bvda\b/);
    expect((await serial!.run('cat /sys/block/vda/size')).trim()).toBe(String((0.0625 * 1024 ** 3) / 512));
    expect(readFileSync(join(engine.home, 'config/domains/hw-a.cfg'), 'utf8')).toContain(`tap:qcow2:${image},xvda,w`);
    await expect.poll(() => page.getByRole('rowheader', { name: 'xvda' }).count(), { timeout: 30_000 }).toBe(1);
  }, 180_000);

  test('Host details shows the volume used by the domain, and the NAT network', async () => {
    await button('Back to Manager').click();
    await button('Host details').click();
    const volumes = page.getByRole('table', { name: 'Volumes' });
    const volume = volumes.getByRole('row').filter({ hasText: 'hw-a-xvda.qcow2' });
    await expect.poll(() => volume.textContent(), { timeout: 30_000 }).toContain('hw-a');
    expect(await volume.textContent()).toContain('64.00 MiB');
    // In use: Delete is refused in the GUI as in the engine.
    await volume.getByRole('button', { name: 'hw-a-xvda.qcow2' }).click();
    expect(await button('Delete Volume').isDisabled()).toBe(true);
    // A volume made from xm shows up at once: the window follows the engine's storage.changed events.
    expect((await engine.xm('vol-create', '--format=raw', 'default', 'from-xm.img', '1M')).code).toBe(0);
    await expect.poll(() => volumes.getByRole('row').filter({ hasText: 'from-xm.img' }).count(), { timeout: 10_000 }).toBe(1);
    await saveScreenshot(page, 'host-storage');
    await page.getByRole('tab', { name: 'Virtual Networks' }).click();
    await expect.poll(() => page.getByRole('table', { name: 'Networks' }).textContent(), { timeout: 10_000 }).toContain('NAT (user mode)');
    await button('Back to Manager').click();
  }, 60_000);

  test('Insert… puts a pool image into an empty CD-ROM drive of a running guest; Eject takes it out', async () => {
    const iso = join(engine.home, 'data/images/media.iso');
    const data = Buffer.alloc(2048 * 4);
    data.write('dom0-gui-cdrom');
    writeFileSync(iso, data);
    expect((await engine.xm('new', engine.guestConfig('hw-cd', "disk = [',hdc:cdrom,r']"))).code).toBe(0);
    expect((await engine.xm('start', 'hw-cd')).code).toBe(0);
    const cd = await SerialConsole.attach(join(engine.home, 'run/domains/hw-cd'));
    try {
      await cd.waitFor(READY, { timeoutMs: 120_000 });
      const row = page.getByRole('row', { name: 'hw-cd', exact: true });
      await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Running');
      await row.dblclick();
      await page.getByRole('tab', { name: 'Details' }).click();
      await button('Insert medium into hdc').click();
      const dialog = page.getByRole('dialog', { name: 'Insert medium into hdc' });
      await expect.poll(() => dialog.getByLabel('Image').locator('option').filter({ hasText: 'media.iso' }).count(), { timeout: 30_000 }).toBe(1);
      await dialog.getByLabel('Image').selectOption(iso);
      await dialog.getByRole('button', { name: 'Insert' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Medium inserted into hdc.' }).count(), { timeout: 60_000 }).toBe(1);
      await expect
        .poll(() => cd.run('[ -e /run/ata-ready ] && dd if=/dev/sr0 bs=2048 count=1 2>/dev/null | head -c 14; echo'), { timeout: 60_000, interval: 500 })
        .toContain('dom0-gui-cdrom');
      expect(readFileSync(join(engine.home, 'config/domains/hw-cd.cfg'), 'utf8')).toContain(`${iso},hdc:cdrom,r`);
      await button('Eject hdc').click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Medium ejected from hdc.' }).count(), { timeout: 60_000 }).toBe(1);
      await expect.poll(() => cd.run('dd if=/dev/sr0 bs=2048 count=1 >/dev/null 2>&1 && echo readable || echo no-medium'), { timeout: 60_000, interval: 500 }).toContain('no-medium');
      await button('Back to Manager').click();
    } finally {
      cd.close();
    }
  }, 180_000);

  test('Remove takes the disk out of the running guest and the definition', async () => {
    await page.getByRole('row', { name: 'hw-a', exact: true }).dblclick();
    await page.getByRole('tab', { name: 'Details' }).click();
    await button('Remove disk xvda').click();
    await page.getByRole('dialog', { name: 'Remove device' }).getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Disk xvda removed from the running guest.' }).count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(guestBlockDevices, { timeout: 60_000, interval: 500 }).not.toMatch(/\bvda\b/);
    expect(readFileSync(join(engine.home, 'config/domains/hw-a.cfg'), 'utf8')).not.toContain('xvda');
  }, 120_000);
});
