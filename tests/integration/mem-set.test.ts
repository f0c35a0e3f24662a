// xm mem-set down and back up: the balloon gives the memory back to the guest, up to what it
// booted with; above that it is refused with what to do.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { guestConfig, startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine;

beforeAll(() => {
  engine = startTestEngine();
});

afterAll(async () => {
  await engine?.dispose();
});

test('memory lowered with mem-set can be raised again to the boot memory, not beyond', async () => {
  const info = await engine.manager.create(guestConfig('mem1'));
  await engine.manager.memSet(info.domid, 64);
  expect(engine.manager.info(info.domid).memory).toBe(64);
  await engine.manager.memSet(info.domid, 128);
  expect(engine.manager.info(info.domid).memory).toBe(128);
  await expect(engine.manager.memSet(info.domid, 256)).rejects.toThrow(/between 16 and the domain's maxmem \(128\)/);
});
