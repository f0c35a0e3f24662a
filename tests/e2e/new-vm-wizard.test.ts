// The New VM wizard as a user walks it in Chromium, clicking only: New, local install media,
// Browse… to the ISO in the engine's file browser, the OS detected from it, the recommended
// memory/CPUs, a new disk, the suggested name, Finish. It ends with the domain running (booted
// from the grub-mkrescue ISO of the test guest), its console open, and the manager listing it.

import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { READY } from '../integration/helpers/engine.js';
import { launchBrowser, ROOT, saveScreenshot, startWebEngine, waitUntil, type WebEngine } from './helpers/web-engine.js';

const ISO = join(ROOT, 'tests/fixtures/cache/install/guest.iso');
const NAME = 'dom0-testguest';

let engine: WebEngine;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(ISO)) throw new Error(`${ISO} is missing: run tests/fixtures/build-install-media.sh (npm run test:e2e does)`);
  engine = await startWebEngine();
  // Install media where users keep it: a folder of the data dir, which the file browser may show.
  mkdirSync(join(engine.home, 'data/iso'), { recursive: true });
  copyFileSync(ISO, join(engine.home, 'data/iso/guest.iso'));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await engine?.stop();
});

describe('New VM wizard', () => {
  test('a click-only walk through the five steps ends with a running domain and its console open', async () => {
    await page.goto(engine.url);
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const wizard = page.getByRole('dialog', { name: /New VM — Step 1 of 5/ });
    await wizard.waitFor();

    // Step 1: the install method.
    await wizard.getByRole('radio', { name: 'Local install media (ISO image)' }).click();
    await saveScreenshot(page, 'wizard-1-method');
    await wizard.getByRole('button', { name: 'Forward' }).click();

    // Step 2: Forward without media is refused where the field is.
    const step2 = page.getByRole('dialog', { name: /Step 2 of 5/ });
    await step2.getByRole('button', { name: 'Forward' }).click();
    await expect.poll(() => step2.getByText('Choose an ISO image.').count()).toBe(1);
    // Browse the engine's host: the data dir is offered first; open iso/, pick the image.
    await step2.getByRole('button', { name: 'Browse…' }).click();
    const browser2 = page.getByRole('dialog', { name: 'Choose an ISO image' });
    await browser2.getByRole('button', { name: /iso\/$/ }).click();
    await browser2.getByRole('button', { name: /guest\.iso/ }).click();
    await browser2.getByRole('button', { name: 'Choose' }).click();
    // The OS is detected from the ISO's volume label.
    await expect.poll(() => step2.getByRole('status').textContent(), { timeout: 30_000 }).toContain('Detected Dom0 test guest (busybox)');
    await saveScreenshot(page, 'wizard-2-media');
    await step2.getByRole('button', { name: 'Forward' }).click();

    // Step 3: the OS's recommendation, within the host's limits.
    const step3 = page.getByRole('dialog', { name: /Step 3 of 5/ });
    expect(await step3.getByLabel('Memory (MiB)').inputValue()).toBe('128');
    expect(await step3.getByLabel('CPUs').inputValue()).toBe('1');
    await step3.getByRole('button', { name: 'Forward' }).click();

    // Step 4: a new disk of the recommended size, the pool's free space shown.
    const step4 = page.getByRole('dialog', { name: /Step 4 of 5/ });
    expect(await step4.getByLabel('Size (GiB)').inputValue()).toBe('1');
    expect(await step4.getByText(/GiB available in .*\/data\/images/).count()).toBe(1);
    await saveScreenshot(page, 'wizard-4-storage');
    await step4.getByRole('button', { name: 'Forward' }).click();

    // Step 5: the suggested name and the summary; Finish.
    const step5 = page.getByRole('dialog', { name: /Step 5 of 5/ });
    expect(await step5.getByLabel('Name').inputValue()).toBe(NAME);
    expect(await step5.locator('.wizard-summary').textContent()).toContain('guest.iso');
    await saveScreenshot(page, 'new-vm-wizard');
    await step5.getByRole('button', { name: 'Finish' }).click();

    // The domain window opens on its console, which connects to the running guest.
    const viewer = page.getByLabel(`Graphical console of ${NAME}`);
    await waitUntil('the new domain\'s console connects', async () => (await viewer.getAttribute('data-connected')) === 'true', 120_000);
    expect(await page.getByRole('tab', { name: 'Console', exact: true }).getAttribute('aria-selected')).toBe('true');
    // The guest booted from the ISO (GRUB, then the test guest's kernel and shell).
    const serialLog = join(engine.home, 'run/domains', NAME, 'serial.log');
    await waitUntil('the guest boots from the ISO', () => existsSync(serialLog) && READY.test(readFileSync(serialLog, 'utf8')), 120_000);
    await saveScreenshot(page, 'wizard-console');

    // Back in the manager, the domain is listed and running; its files are where they belong.
    await page.getByRole('button', { name: 'Back to Manager' }).click();
    await expect.poll(() => page.getByRole('row', { name: NAME, exact: true }).textContent(), { timeout: 30_000 }).toContain('Running');
    const cfg = readFileSync(join(engine.home, 'config/domains', `${NAME}.cfg`), 'utf8');
    expect(cfg).toContain(`tap:qcow2:${join(engine.home, 'data/images', `${NAME}.qcow2`)},xvda,w`);
    expect(cfg).toContain(`file:${join(engine.home, 'data/iso/guest.iso')},hda:cdrom,r`);
  });

  test('customize before install: the domain window opens on Details, Begin Installation runs it', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const wizard = page.getByRole('dialog', { name: /New VM — Step/ });
    await wizard.getByRole('button', { name: 'Forward' }).click();
    await wizard.getByRole('button', { name: 'Browse…' }).click();
    const files = page.getByRole('dialog', { name: 'Choose an ISO image' });
    await files.getByRole('button', { name: /iso\/$/ }).click();
    await files.getByRole('button', { name: /guest\.iso/ }).click();
    await files.getByRole('button', { name: 'Choose' }).click();
    await expect.poll(() => wizard.getByRole('status').textContent(), { timeout: 30_000 }).toContain('Detected');
    for (const n of [2, 3, 4]) {
      await page.getByRole('dialog', { name: new RegExp(`Step ${n} of 5`) }).getByRole('button', { name: 'Forward' }).click();
    }
    const step5 = page.getByRole('dialog', { name: /Step 5 of 5/ });
    // The first domain has the OS's name: the next suggestion does not clash with it.
    expect(await step5.getByLabel('Name').inputValue()).toBe(`${NAME}-2`);
    await step5.getByRole('checkbox', { name: 'Customize configuration before install' }).click();
    await step5.getByRole('button', { name: 'Finish' }).click();

    await expect.poll(() => page.getByRole('tab', { name: 'Details', exact: true }).getAttribute('aria-selected'), { timeout: 30_000 }).toBe('true');
    const bar = page.getByRole('region', { name: 'Installation' });
    await bar.waitFor();
    // Defined, not running, until the user begins.
    expect(await page.getByRole('banner').textContent()).not.toContain('Running');
    await bar.getByRole('button', { name: 'Begin Installation' }).click();
    const viewer = page.getByLabel(`Graphical console of ${NAME}-2`);
    await waitUntil('the console of the customized domain connects', async () => (await viewer.getAttribute('data-connected')) === 'true', 120_000);
    const serialLog = join(engine.home, 'run/domains', `${NAME}-2`, 'serial.log');
    await waitUntil('the customized domain boots its installer', () => existsSync(serialLog) && READY.test(readFileSync(serialLog, 'utf8')), 120_000);
  });
});
