// @ts-check
// Renders resources/icons/dom0.svg to the PNG sizes desktops look up (hicolor theme) with Debian's
// Chromium, into resources/icons/<N>x<N>/dom0.png. Run after editing the SVG; the PNGs are
// committed so building the package needs no browser.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
const dir = join(dirname(fileURLToPath(import.meta.url)), '../resources/icons');
const svg = readFileSync(join(dir, 'dom0.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.DOM0_CHROMIUM ?? '/usr/bin/chromium' });
try {
  for (const size of ICON_SIZES) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<style>html,body{margin:0;background:transparent}</style><img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${size}" height="${size}">`);
    await page.locator('img').evaluate((img) => /** @type {HTMLImageElement} */ (img).decode());
    mkdirSync(join(dir, `${size}x${size}`), { recursive: true });
    await page.screenshot({ path: join(dir, `${size}x${size}`, 'dom0.png'), omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
