// A stand-in for the engine as the renderer's API layer sees it: a protocol client whose methods
// are answered by the test, whose events and hang-ups the test triggers. Used through the API's
// own setClientFactory, so stores and API functions run as in the app.

import { vi } from 'vitest';
import { RemoteError } from '../../engine/protocol/browser/index.js';
import type { CloseReason } from '../../engine/protocol/browser/index.js';
import type { EngineClient } from '../../renderer/src/api/connection.js';
import type { DomainRow } from '../../renderer/src/api/types.js';

type Handler = (params: unknown) => unknown;

export interface FakeClient {
  /** Every call in order, with its params. */
  calls: { method: string; params: unknown }[];
  subscribed: string[][];
  closed: boolean;
  handle(method: string, handler: Handler): void;
  emit(event: string, data: unknown): void;
  /** The engine goes away. */
  drop(error?: Error): void;
  asClient(): EngineClient;
  count(method: string): number;
}

export function fakeClient(handlers: Record<string, Handler> = {}): FakeClient {
  const table = new Map(Object.entries(handlers));
  const listeners = new Map<string, Set<(data: unknown) => void>>();
  const closeCbs = new Set<(reason: CloseReason) => void>();
  const fake: FakeClient = {
    calls: [],
    subscribed: [],
    closed: false,
    handle(method, handler) {
      table.set(method, handler);
    },
    emit(event, data) {
      for (const listener of [...(listeners.get(event) ?? [])]) listener(data);
    },
    drop(error) {
      if (fake.closed) return;
      fake.closed = true;
      for (const cb of [...closeCbs]) cb({ kind: 'remote', error });
    },
    count(method) {
      return fake.calls.filter((c) => c.method === method).length;
    },
    asClient() {
      return client as unknown as EngineClient;
    },
  };
  const client = {
    call: vi.fn(async (method: string, params?: unknown) => {
      fake.calls.push({ method, params });
      const handler = table.get(method);
      if (handler === undefined) throw new RemoteError('MethodNotFound', `no fake for ${method}`, undefined, method);
      return handler(params);
    }),
    subscribe: vi.fn(async (topics: string[]) => {
      fake.subscribed.push([...topics]);
      return topics;
    }),
    on(event: string, handler: (data: unknown) => void) {
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      set.add(handler);
      return { dispose: () => void set.delete(handler) };
    },
    onClose(cb: (reason: CloseReason) => void) {
      closeCbs.add(cb);
      return { dispose: () => void closeCbs.delete(cb) };
    },
    close: vi.fn(async () => {
      if (!fake.closed) {
        fake.closed = true;
        for (const cb of [...closeCbs]) cb({ kind: 'local' });
      }
      return { kind: 'local' } as CloseReason;
    }),
  };
  return fake;
}

/** A promise the test resolves when it wants. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued promise callbacks run (several rounds: API → store → mutator). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export function row(name: string, over: Partial<DomainRow> = {}): DomainRow {
  return {
    name,
    status: 'halted',
    state: '------',
    memory: 256,
    maxmem: 256,
    vcpus: 1,
    cpuTime: 0,
    ...over,
  };
}

export function runningRow(name: string, domid: number, over: Partial<DomainRow> = {}): DomainRow {
  return row(name, { status: 'running', state: 'r-----', domid, startTime: Date.now(), ...over });
}

/** Pretends to be the Electron preload, so the local connection takes the desktop path. */
export function installElectronBridge(endpoint = { url: 'ws://127.0.0.1:1/engine', token: 't'.repeat(20) }): () => void {
  const g = globalThis as { dom0?: unknown };
  const before = g.dom0;
  g.dom0 = { runtime: 'electron', getEngineEndpoint: async () => endpoint };
  return () => {
    g.dom0 = before;
  };
}
