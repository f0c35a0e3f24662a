// xend answers a simple request without waiting on other clients' work. Eight clients poll
// `host.info` and `domain.list` (what a GUI per window, `watch xm list` or a monitoring script
// does) against a real xend with 30 defined domains; meanwhile an unrelated cheap call must come
// back about as fast as it does with nobody polling. When a handler blocked the event loop (a
// synchronous `qemu --version` per call, every config re-parsed per list), each poll held
// everyone else for 100+ ms and the unrelated call waited behind the whole queue (~0.9 s).
//
// The bound is derived from this run, not a fixed time: the unrelated call's own latency with
// nobody polling, times one turn of every client (the eight pollers and itself), times a margin
// for a shared, loaded machine. A loop blocked per poll exceeds it by an order of magnitude.

import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectUnix } from '../../engine/protocol/node/unix-client.js';
import { xendMethods } from '../../engine/protocol/common/xend-api.js';
import { GUEST_KERNEL } from './helpers/engine.js';
import { XendProcess } from './helpers/xend-process.js';

type Client = Awaited<ReturnType<typeof connectUnix<typeof xendMethods>>>;

const POLLERS = 8;
const DEFINED = 30;
const SAMPLES = 30;
const MARGIN = 10;

let xend: XendProcess;
const clients: Client[] = [];

async function connect(): Promise<Client> {
  const c = await connectUnix(join(xend.home, 'run/xend.sock'), xendMethods);
  clients.push(c);
  return c;
}

/**
 * Median wall time of `SAMPLES` calls, one after another. With a `bound`, it stops as soon as
 * more than half the samples exceeded it (the median then does too): a blocked xend fails the
 * test in seconds instead of running into call timeouts.
 */
async function medianLatency(call: () => Promise<unknown>, bound = Infinity): Promise<number> {
  const times: number[] = [];
  let over = 0;
  for (let i = 0; i < SAMPLES && over <= SAMPLES / 2; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
    if (times.at(-1)! > bound) over++;
  }
  if (over > SAMPLES / 2) return times.sort((a, b) => a - b).at(-1)!;
  return times.sort((a, b) => a - b)[SAMPLES >> 1]!;
}

beforeAll(async () => {
  xend = await XendProcess.start();
  const c = await connect();
  for (let i = 0; i < DEFINED; i++) {
    const name = `poll${String(i).padStart(2, '0')}`;
    await c.call('domain.define', { text: `name = "${name}"\nmemory = 64\nkernel = "${GUEST_KERNEL}"\nextra = "console=ttyS0"\n`, file: `${name}.cfg` });
  }
});

afterAll(async () => {
  for (const c of clients) c.close();
  await xend?.stop();
});

test('an unrelated call is not held up by eight clients polling host.info and domain.list', async () => {
  const probe = await connect();
  const unrelated = () => probe.call('domain.getConfig', { name: 'poll07' });
  expect((await probe.call('domain.list')).length).toBe(DEFINED + 1);
  await unrelated();

  const quiet = await medianLatency(unrelated);
  const bound = quiet * (POLLERS + 1) * MARGIN;

  const pollers = await Promise.all(Array.from({ length: POLLERS }, () => connect()));
  let polling = true;
  let polls = 0;
  const loops = pollers.map(async (c, i) => {
    while (polling) {
      await (i % 2 === 0 ? c.call('domain.list') : c.call('host.info'));
      polls++;
    }
  });
  // Every poller has had answers before the measurement starts: the queue is full.
  while (polls < POLLERS * 2) await new Promise((r) => setImmediate(r));
  const pollsBefore = polls;
  const busy = await medianLatency(unrelated, bound);
  const pollsDuring = polls - pollsBefore;
  polling = false;
  await Promise.all(loops);

  console.log(`unrelated call: ${quiet.toFixed(1)} ms quiet, ${busy.toFixed(1)} ms with ${POLLERS} pollers (${pollsDuring} polls answered meanwhile); bound ${bound.toFixed(0)} ms`);
  expect(busy).toBeLessThan(bound);
  // The pollers were really served while the unrelated call was measured.
  expect(pollsDuring).toBeGreaterThanOrEqual(POLLERS);
});
