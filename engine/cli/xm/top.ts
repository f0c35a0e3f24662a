// `xm top` (xentop) from xend's stats stream (`stats.sample`, one tick a second for all domains;
// nothing here polls QEMU). Batch mode (-b) prints a frame every -d seconds, -i times; otherwise a
// full-screen view redrawn in place until `q` (or Ctrl-C).

import { UsageError, type Command, type XmContext } from './commands.js';
import { formatTopFrame, frameOf, type TopTick } from './top-format.js';

interface TopOptions {
  batch: boolean;
  delay: number;
  iterations?: number;
}

function parseTopArgs(args: string[]): TopOptions {
  const opts: TopOptions = { batch: false, delay: 3 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = /^-[di].+/.test(a) ? a.slice(2) : args[++i];
      if (v === undefined) throw new UsageError(`option ${a.slice(0, 2)} needs a value`);
      return v;
    };
    if (a === '-b' || a === '--batch') opts.batch = true;
    else if (a.startsWith('-d') || a === '--delay') {
      const v = value();
      const d = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || d < 0.5 || d > 3600) throw new UsageError(`the delay must be a number of seconds from 0.5 to 3600, got '${v}'`);
      opts.delay = d;
    } else if (a.startsWith('-i') || a === '--iterations') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`the number of iterations must be a whole number of at least 1, got '${v}'`);
      opts.iterations = Number(v);
    } else throw new UsageError(`unknown option ${a}`);
  }
  return opts;
}

async function runTop(ctx: XmContext, args: string[]): Promise<number> {
  const opts = parseTopArgs(args);
  const client = await ctx.client();
  const info = await client.call('host.info');
  const ticks: TopTick[] = [];
  let wake: (() => void) | undefined;
  client.on('stats.sample', (t) => {
    ticks.push(t);
    wake?.();
  });
  await client.subscribe(['stats.sample']);
  const interactive = !opts.batch && process.stdout.isTTY === true && process.stdin.isTTY === true;
  let quit = false;
  let stopWaiting: (() => void) | undefined;
  const onKey = (key: Buffer): void => {
    const k = key.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003') {
      quit = true;
      stopWaiting?.();
    }
  };
  if (interactive) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey);
    ctx.out('\x1b[?1049h\x1b[?25l'); // alternate screen, cursor hidden
  }
  let previous: TopTick | undefined;
  try {
    for (let n = 0; !quit && (opts.iterations === undefined || n < opts.iterations); n++) {
      // The first frame waits for one tick; later ones for the delay (and at least one more tick).
      const deadline = Date.now() + (n === 0 ? 0 : opts.delay * 1000);
      const seen = ticks.length;
      await new Promise<void>((resolve) => {
        stopWaiting = resolve;
        const check = (): void => {
          if (quit || (ticks.length > seen && Date.now() >= deadline)) resolve();
        };
        wake = check;
        const timer = setTimeout(function again() {
          check();
          if (!quit && !(ticks.length > seen && Date.now() >= deadline)) setTimeout(again, 100).unref();
        }, Math.max(0, deadline - Date.now()));
        timer.unref();
      });
      if (quit) break;
      const latest = ticks[ticks.length - 1]!;
      const frame = frameOf(latest, previous, info.dom0_version, info.nr_cpus, info.cpu_mhz);
      previous = latest;
      ticks.splice(0, ticks.length - 1);
      const text = formatTopFrame(frame);
      if (interactive) ctx.out('\x1b[H\x1b[2J' + text.replace(/\n/g, '\r\n') + '\r\nq: quit');
      else ctx.out(text);
    }
  } finally {
    if (interactive) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      ctx.out('\x1b[?25h\x1b[?1049l');
    }
  }
  return 0;
}

export const TOP_COMMANDS: Command[] = [
  {
    name: 'top',
    usage: 'top [-b] [-d SECONDS] [-i ITERATIONS]',
    summary:
      'Monitor the host and the domains in real time (xentop).\n  -b, --batch           Batch mode: print frames to standard output\n  -d, --delay=SECONDS   Seconds between updates (default 3)\n  -i, --iterations=N    Number of updates before exiting (default: until q)',
    run: runTop,
  },
];
