import { expect, test } from 'vitest';
import { averagePoints, History } from '../../engine/stats/index.js';

type P = { time: number; cpu: number; mem: number | null; wrTotal: number; vcpu: number[] };
const point = (i: number): P => ({ time: i * 1000, cpu: i % 10, mem: 100, wrTotal: i * 512, vcpu: [i % 10, 0] });

test('the fine ring keeps the last N points in order; older ones survive as averages', () => {
  const h = new History<P>(10, 5, 4);
  for (let i = 0; i < 30; i++) h.push(point(i));
  const all = h.since(0);
  // 10 fine points (20..29) and the coarse averages older than them.
  expect(all.slice(-10).map((p) => p.time)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29].map((i) => i * 1000));
  const coarse = all.slice(0, -10);
  expect(coarse.length).toBeGreaterThan(0);
  expect(coarse.length).toBeLessThanOrEqual(5);
  for (const c of coarse) expect(c.time).toBeLessThan(20_000);
  expect(all.map((p) => p.time)).toEqual([...all.map((p) => p.time)].sort((a, b) => a - b));
  expect(h.since(25_000).map((p) => p.time)).toEqual([25, 26, 27, 28, 29].map((i) => i * 1000));
});

test('averaging keeps counters and time from the latest point and averages rates; null stays null', () => {
  const avg = averagePoints<P>([point(1), point(3), { ...point(5), mem: null }]);
  expect(avg).toEqual({ time: 5000, cpu: 3, mem: null, wrTotal: 2560, vcpu: [3, 0] });
});

test('maxPoints decimates a long span', () => {
  const h = new History<P>(100, 10, 60);
  for (let i = 0; i < 100; i++) h.push(point(i));
  const d = h.since(0, 10);
  expect(d).toHaveLength(10);
  expect(d.at(-1)!.time).toBe(99_000);
});
