import { describe, expect, it } from 'vitest';
import { VncChannel } from '../../renderer/src/components/console/vnc-channel.js';
import type { VncStream } from '../../renderer/src/components/console/vnc-channel.js';

interface FakeStream extends VncStream {
  sent: Uint8Array[];
  closed: boolean;
  push(bytes: Uint8Array): void;
  hangUp(code?: number, reason?: string): void;
  dataListeners(): number;
}

/** Like the engine's BrowserStream: frames before the first onData are held for it. */
function fakeStream(): FakeStream {
  const held: Uint8Array[] = [];
  const dataCbs = new Set<(bytes: Uint8Array) => void>();
  const closeCbs = new Set<(info: { code: number; reason: string }) => void>();
  const fake: FakeStream = {
    sent: [],
    closed: false,
    send(bytes) {
      fake.sent.push(bytes instanceof ArrayBuffer ? new Uint8Array(bytes.slice(0)) : bytes.slice());
    },
    onData(cb) {
      dataCbs.add(cb);
      for (const bytes of held.splice(0)) cb(bytes);
      return { dispose: () => void dataCbs.delete(cb) };
    },
    onClose(cb) {
      closeCbs.add(cb);
      return { dispose: () => void closeCbs.delete(cb) };
    },
    close() {
      fake.closed = true;
    },
    push(bytes) {
      if (dataCbs.size === 0) held.push(bytes);
      else for (const cb of [...dataCbs]) cb(bytes);
    },
    hangUp(code = 1006, reason = '') {
      for (const cb of [...closeCbs]) cb({ code, reason });
      closeCbs.clear();
    },
    dataListeners: () => dataCbs.size,
  };
  return fake;
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('VncChannel', () => {
  it('has every property noVNC checks for a raw channel', () => {
    const channel = new VncChannel(fakeStream());
    const props = [...Object.keys(channel), ...Object.getOwnPropertyNames(Object.getPrototypeOf(channel))];
    for (const prop of ['send', 'close', 'binaryType', 'onerror', 'onmessage', 'onopen', 'protocol', 'readyState']) {
      expect(props).toContain(prop);
    }
  });

  it('reports CONNECTING, then fires onopen on the next microtask and turns OPEN', async () => {
    const channel = new VncChannel(fakeStream());
    expect(channel.readyState).toBe(0);
    const seen: number[] = [];
    channel.onopen = () => seen.push(channel.readyState);
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual([1]);
    expect(channel.readyState).toBe(1);
  });

  it('delivers frames (also those before opening) as ArrayBuffers holding exactly their bytes', async () => {
    const stream = fakeStream();
    const channel = new VncChannel(stream);
    const got: number[][] = [];
    channel.onmessage = ({ data }) => {
      expect(data).toBeInstanceOf(ArrayBuffer);
      got.push([...new Uint8Array(data)]);
    };
    stream.push(new Uint8Array([1, 2, 3]));
    await tick();
    const big = new Uint8Array([9, 9, 4, 5, 9]);
    stream.push(big.subarray(2, 4));
    expect(got).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('sends ArrayBuffers and views (only their window) to the stream once open', async () => {
    const stream = fakeStream();
    const channel = new VncChannel(stream);
    channel.send(new Uint8Array([0]));
    expect(stream.sent).toEqual([]);
    await tick();
    const buf = new Uint8Array([7, 8, 9, 10]);
    channel.send(new Uint8Array(buf.buffer, 1, 2));
    channel.send(new Uint8Array([11]).buffer);
    expect(stream.sent.map((b) => [...b])).toEqual([[8, 9], [11]]);
  });

  it('passes the stream closing on as onclose and stops delivering', async () => {
    const stream = fakeStream();
    const channel = new VncChannel(stream);
    await tick();
    const closes: { code: number; reason: string; wasClean: boolean }[] = [];
    channel.onclose = (e) => closes.push(e);
    stream.hangUp(4404, 'gone');
    expect(channel.readyState).toBe(3);
    expect(closes).toEqual([{ code: 4404, reason: 'gone', wasClean: false }]);
    expect(stream.dataListeners()).toBe(0);
  });

  it('close() closes the stream once and never opens a channel closed before its microtask', async () => {
    const stream = fakeStream();
    const channel = new VncChannel(stream);
    let opened = false;
    channel.onopen = () => (opened = true);
    channel.close();
    channel.close();
    expect(stream.closed).toBe(true);
    expect(channel.readyState).toBe(2);
    await tick();
    expect(opened).toBe(false);
    stream.hangUp(1000);
    expect(channel.readyState).toBe(3);
  });
});
