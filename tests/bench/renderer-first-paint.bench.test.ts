// `npm run bench`: navigation → first paint of the manager's domain list, in Debian's Chromium,
// for the renderer as built (noVNC, xterm.js and Chart.js split into chunks that load when their
// view is first shown) against the same sources bundled into one file (the shape the build had
// before the split: everything parsed and run before the list can paint). Both are served by the
// real web mode and protocol server; a synthetic engine lists 30 domains, so only the renderer
// differs. Fresh browser context per load (no HTTP cache), loads alternated, medians printed.
// Reported, not asserted.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, test } from 'vitest';
import type { Handlers } from '../../engine/protocol/common/define.js';
import { xendEvents, xendMethods, xendStreams, type DomainRow, type XendMethods } from '../../engine/protocol/common/xend-api.js';
import { ProtocolServer, type StreamOpeners } from '../../engine/protocol/node/server.js';
import { startWebMode, type WebMode } from '../../engine/xend/web.js';
import { launchBrowser, ROOT } from '../e2e/helpers/web-engine.js';

const N = 30;
const LOADS = 7;
const TOKEN = 'bench-token-0123456789abcdef';

let browser: Browser;
let server: ProtocolServer<typeof xendMethods, typeof xendEvents, typeof xendStreams>;
let split: WebMode;
let single: WebMode;
let singleDir: string;

const rows = (): DomainRow[] => [
  { name: 'Domain-0', domid: 0, status: 'running', state: 'r-----', memory: 8192, maxmem: 8192, vcpus: 2, cpuTime: 1000 },
  ...Array.from({ length: N }, (_, i) => ({ name: `vm-${String(i).padStart(3, '0')}`, domid: i + 1, status: 'running' as const, state: '-b----', memory: 256, maxmem: 256, vcpus: 1, cpuTime: i })),
];

/** The renderer's sources as one bundle: the build's own settings with code splitting off. */
async function buildSingleBundle(outDir: string): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'error',
    root: resolve(ROOT, 'renderer'),
    base: './',
    plugins: [vue()],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: true,
      chunkSizeWarningLimit: 4096,
      rolldownOptions: { input: { index: resolve(ROOT, 'renderer/index.html') }, output: { codeSplitting: false } },
    },
  });
}

/** Bytes of JavaScript the page loads before anything is shown (the entry and what index.html preloads), and in all. */
function scriptBytes(dir: string): { first: number; all: number } {
  const assets = join(dir, 'assets');
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const size = (files: string[]) => files.reduce((sum, f) => sum + statSync(join(assets, f)).size, 0);
  return { first: size(js.filter((f) => html.includes(f))), all: size(js) };
}

beforeAll(async () => {
  singleDir = mkdtempSync('/tmp/d0r-');
  await buildSingleBundle(singleDir);
  const refuse = () => {
    throw Object.assign(new Error('not offered by the synthetic benchmark engine'), { code: 'Unsupported' });
  };
  const handlers = {
    ...Object.fromEntries(Object.keys(xendMethods).map((m) => [m, refuse])),
    'domain.list': () => rows(),
    'stats.history': () => ({ interval: 1, host: [], domains: [] }),
    'stats.settings': () => ({ interval: 1, memory: true, disk: true, network: true }),
  } as unknown as Handlers<XendMethods>;
  const streamOpeners = Object.fromEntries(Object.keys(xendStreams).map((k) => [k, async () => refuse()])) as unknown as StreamOpeners<typeof xendStreams>;
  server = new ProtocolServer({ methods: xendMethods, handlers, events: xendEvents, streams: xendStreams, streamOpeners });
  split = await startWebMode({ server, listen: '127.0.0.1:0', token: TOKEN, allowRemote: false, rendererDir: join(ROOT, 'out/renderer') });
  single = await startWebMode({ server, listen: '127.0.0.1:0', token: TOKEN, allowRemote: false, rendererDir: singleDir });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.closeAll();
  await split?.close();
  await single?.close();
  if (singleDir) rmSync(singleDir, { recursive: true, force: true });
});

/** Milliseconds from navigation start to the frame that first shows the list's rows. */
async function firstListPaint(url: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { __listPaint?: number };
    const seen = () => document.querySelector('tr[aria-label="vm-000"]') !== null;
    const observer = new MutationObserver(() => {
      if (!seen()) return;
      observer.disconnect();
      // The frame that shows it: the next animation frame after the rows exist.
      requestAnimationFrame(() => (w.__listPaint = performance.now()));
    });
    observer.observe(document, { childList: true, subtree: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __listPaint?: number }).__listPaint !== undefined, undefined, { timeout: 60_000 });
  const t = await page.evaluate(() => (window as unknown as { __listPaint: number }).__listPaint);
  await context.close();
  return t;
}

test('navigation → first paint of the manager list: split renderer vs one bundle', async () => {
  await firstListPaint(split.url);
  await firstListPaint(single.url);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    b.push(await firstListPaint(single.url));
    a.push(await firstListPaint(split.url));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const s = scriptBytes(join(ROOT, 'out/renderer'));
  const o = scriptBytes(singleDir);
  console.log(
    [
      `navigation → manager list first paint (${N} domains, Chromium, medians of ${LOADS}):`,
      `  one bundle (before the split): ${median(b).toFixed(0)} ms; ${(o.first / 1024).toFixed(0)} KiB of script before the first paint`,
      `  split (as built):              ${median(a).toFixed(0)} ms; ${(s.first / 1024).toFixed(0)} KiB of script before the first paint (${(s.all / 1024).toFixed(0)} KiB in all chunks)`,
      `  ratio split/one bundle: ${(median(a) / median(b)).toFixed(2)}×`,
    ].join('\n'),
  );
});
