// The protocol client against a fake transport: ids, timeouts, disconnects, validation and event
// dispatch, without sockets.

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  authenticate,
  CallTimeoutError,
  ConnectError,
  defineEvents,
  defineMethods,
  DisconnectedError,
  HeldTransport,
  ProtocolClient,
  ProtocolError,
  RemoteError,
  StateError,
} from '../../engine/protocol/common/index.js';
import type { ClientOptions, EventTable, ProtocolFailure, StreamTable } from '../../engine/protocol/common/index.js';

const methods = defineMethods({
  'domain.list': {
    params: z.void(),
    result: z.array(z.object({ name: z.string(), state: z.string() })),
    doc: 'Lists domains. Always allowed.',
  },
  'domain.pause': {
    params: z.object({ name: z.string() }),
    result: z.void(),
    doc: 'Pauses a running domain. Refused with InvalidState unless running.',
  },
  'host.info': { params: z.object({ verbose: z.boolean() }).optional(), result: z.object({ cpus: z.number() }), doc: 'Host facts.' },
});

const events = defineEvents({
  'domain.state': { data: z.object({ name: z.string(), state: z.string() }), doc: 'A domain changed state.' },
  'host.info': { data: z.object({ cpus: z.number() }), doc: 'Host facts changed.' },
});

interface Sent {
  id?: number;
  method?: string;
  params?: unknown;
  auth?: string;
}

/** A transport the test drives by hand: it sees what the client sends and answers as the server. */
class FakeTransport extends HeldTransport {
  readonly sent: Sent[] = [];
  closeCalls = 0;
  readonly #waiters: ((sent: Sent) => void)[] = [];

  send(text: string): void {
    if (this.finished) return;
    const sent = JSON.parse(text) as Sent;
    this.sent.push(sent);
    this.#waiters.shift()?.(sent);
  }

  close(): void {
    this.closeCalls++;
    queueMicrotask(() => this.finish());
  }

  /** The next message the client sends (or the last one, if already sent and not yet taken). */
  next(): Promise<Sent> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  reply(message: unknown): void {
    this.deliver(typeof message === 'string' ? message : JSON.stringify(message));
  }

  hangUp(error?: Error): void {
    this.finish(error);
  }
}

function setup<E extends EventTable = typeof events>(opts: ClientOptions<E, StreamTable, never> = {}) {
  const transport = new FakeTransport();
  const warnings: ProtocolError[] = [];
  const client = new ProtocolClient(transport, methods, {
    events: events as unknown as E,
    onProtocolWarning: (error) => void warnings.push(error),
    ...opts,
  });
  return { transport, client, warnings };
}

describe('calls', () => {
  it('assigns ids and matches replies to calls in any order', async () => {
    const { transport, client } = setup();
    const list = client.call('domain.list');
    const info = client.call('host.info', { verbose: true });
    expect(transport.sent).toEqual([
      { id: 1, method: 'domain.list' },
      { id: 2, method: 'host.info', params: { verbose: true } },
    ]);
    transport.reply({ id: 2, result: { cpus: 8 } });
    transport.reply({ id: 1, result: [{ name: 'web', state: 'running' }] });
    await expect(info).resolves.toEqual({ cpus: 8 });
    await expect(list).resolves.toEqual([{ name: 'web', state: 'running' }]);
  });

  it('resolves a void method from a null result', async () => {
    const { transport, client } = setup();
    const pause = client.call('domain.pause', { name: 'web' });
    transport.reply({ id: 1, result: null });
    await expect(pause).resolves.toBeUndefined();
  });

  it('rejects with RemoteError carrying the server code and message', async () => {
    const { transport, client } = setup();
    const pause = client.call('domain.pause', { name: 'web' });
    transport.reply({ id: 1, error: { code: 'InvalidState', message: "domain 'web' is not running", data: { state: 'paused' } } });
    const error = await pause.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'InvalidState', message: "domain 'web' is not running", data: { state: 'paused' }, method: 'domain.pause' });
    expect(client.state).toBe('open');
  });

  it('rejects a result that does not match its schema with ProtocolError, keeping the connection', async () => {
    const { transport, client } = setup();
    const list = client.call('domain.list');
    transport.reply({ id: 1, result: [{ name: 'web' }] });
    const error = (await list.catch((e: unknown) => e)) as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.kind).toBe<ProtocolFailure>('invalid-result');
    expect(error.message).toMatch(/result of 'domain\.list' .* does not match its schema \(0\.state: /);
    expect(client.state).toBe('open');
  });

  it('times out a call, keeps the connection, and drops the late reply', async () => {
    const { transport, client, warnings } = setup();
    const slow = client.call('domain.list', undefined, { timeoutMs: 10 });
    await expect(slow).rejects.toBeInstanceOf(CallTimeoutError);
    transport.reply({ id: 1, result: [] });
    expect(client.state).toBe('open');
    expect(warnings).toEqual([]);
    const next = client.call('host.info');
    transport.reply({ id: 2, result: { cpus: 1 } });
    await expect(next).resolves.toEqual({ cpus: 1 });
  });

  it('uses the client default timeout', async () => {
    const { client } = setup({ callTimeoutMs: 5 });
    await expect(client.call('domain.list')).rejects.toMatchObject({ name: 'CallTimeoutError', timeoutMs: 5 });
  });

  it('rejects with the abort reason when the signal fires', async () => {
    const { client } = setup();
    const controller = new AbortController();
    const call = client.call('domain.list', undefined, { signal: controller.signal });
    controller.abort(new Error('user cancelled'));
    await expect(call).rejects.toThrow('user cancelled');
  });

  it('rejects every pending call with DisconnectedError when the server hangs up', async () => {
    const { transport, client } = setup();
    const a = client.call('domain.list');
    const b = client.call('host.info');
    const onClose = vi.fn();
    client.onClose(onClose);
    transport.hangUp();
    for (const call of [a, b]) {
      const error = (await call.catch((e: unknown) => e)) as DisconnectedError;
      expect(error).toBeInstanceOf(DisconnectedError);
      expect(error.reason.kind).toBe('remote');
      expect(error.message).toMatch(/the engine closed the connection before answering/);
    }
    expect(await client.closed).toEqual({ kind: 'remote', error: undefined });
    expect(onClose).toHaveBeenCalledOnce();
    await expect(client.call('domain.list')).rejects.toBeInstanceOf(DisconnectedError);
  });

  it('gives the server last connection-level error as the reason it hung up', async () => {
    const { transport, client } = setup();
    const call = client.call('domain.list');
    transport.reply({ id: null, error: { code: 'TooLarge', message: 'a message is over the 1048576-byte limit' } });
    transport.hangUp();
    const error = (await call.catch((e: unknown) => e)) as DisconnectedError;
    expect(error.message).toMatch(/over the 1048576-byte limit/);
    expect(error.reason).toMatchObject({ kind: 'remote', error: { code: 'TooLarge' } });
  });

  it('rejects pending calls on close() and refuses calls afterwards with StateError', async () => {
    const { transport, client } = setup();
    const call = client.call('domain.list');
    const closed = client.close();
    await expect(call).rejects.toMatchObject({ name: 'DisconnectedError', reason: { kind: 'local' } });
    await expect(closed).resolves.toEqual({ kind: 'local' });
    expect(transport.closeCalls).toBe(1);
    expect(client.state).toBe('closed');
    await expect(client.call('domain.list')).rejects.toBeInstanceOf(StateError);
  });

  it.each([
    ['not JSON', 'this is not json', 'malformed-json'],
    ['an unknown shape', { hello: 1 }, 'invalid-message'],
    ['a reply to an id never issued', { id: 99, result: 1 }, 'unknown-id'],
    ['a reply with a string id', { id: 'abc', result: 1 }, 'unknown-id'],
  ])('drops the connection when the server sends %s', async (_what, message, kind) => {
    const { transport, client } = setup();
    const call = client.call('domain.list');
    transport.reply(message);
    const error = (await call.catch((e: unknown) => e)) as DisconnectedError;
    expect(error.reason).toMatchObject({ kind: 'protocol', error: { kind } });
    expect(transport.closeCalls).toBe(1);
    await expect(client.closed).resolves.toMatchObject({ kind: 'protocol' });
  });
});

describe('events', () => {
  it('subscribes through the built-in method', async () => {
    const { transport, client } = setup();
    const subscribed = client.subscribe(['domain.*', 'host.info']);
    expect(transport.sent[0]).toEqual({ id: 1, method: 'events.subscribe', params: { topics: ['domain.*', 'host.info'] } });
    transport.reply({ id: 1, result: { topics: ['domain.*', 'host.info'] } });
    await expect(subscribed).resolves.toEqual(['domain.*', 'host.info']);
  });

  it('calls listeners of the event by name, with validated data, until disposed', () => {
    const { transport, client } = setup();
    const states: unknown[] = [];
    const infos: unknown[] = [];
    const sub = client.on('domain.state', (data) => states.push(data));
    client.on('host.info', (data) => infos.push(data.cpus));
    transport.reply({ event: 'domain.state', data: { name: 'web', state: 'running' } });
    transport.reply({ event: 'host.info', data: { cpus: 4 } });
    sub.dispose();
    transport.reply({ event: 'domain.state', data: { name: 'web', state: 'paused' } });
    expect(states).toEqual([{ name: 'web', state: 'running' }]);
    expect(infos).toEqual([4]);
  });

  it('drops and reports events that are unknown or fail their schema, keeping the connection', () => {
    const { transport, client, warnings } = setup();
    const seen = vi.fn();
    client.on('domain.state', seen);
    transport.reply({ event: 'domain.state', data: { name: 'web' } });
    transport.reply({ event: 'stats.sample', data: {} });
    expect(seen).not.toHaveBeenCalled();
    expect(warnings.map((w) => w.kind)).toEqual(['invalid-event', 'invalid-event']);
    expect(client.state).toBe('open');
  });

  it('keeps calling other listeners when one throws', () => {
    const errors: unknown[] = [];
    const { transport, client } = setup({ onListenerError: (error) => void errors.push(error) });
    const second = vi.fn();
    client.on('host.info', () => {
      throw new Error('listener bug');
    });
    client.on('host.info', second);
    transport.reply({ event: 'host.info', data: { cpus: 2 } });
    expect(second).toHaveBeenCalledWith({ cpus: 2 });
    expect(errors).toHaveLength(1);
  });
});

describe('transport contract', () => {
  it('holds messages and the close that come before the client takes over, in order', async () => {
    const transport = new FakeTransport();
    transport.reply({ event: 'nope', data: {} });
    transport.hangUp();
    const order: string[] = [];
    const client = new ProtocolClient(transport, methods, {
      events,
      onProtocolWarning: () => void order.push('event'),
    });
    client.onClose(() => order.push('close'));
    await client.closed;
    await Promise.resolve();
    expect(order).toEqual(['event', 'close']);
    expect(client.closeReason).toEqual({ kind: 'remote', error: undefined });
  });

  it('authenticate sends the token first and hands over a transport that keeps later messages', async () => {
    const transport = new FakeTransport();
    const sent = transport.next();
    const authed = authenticate(transport, 'secret-token-0123456789', 'ws://x/engine', 1000);
    expect(await sent).toEqual({ auth: 'secret-token-0123456789' });
    transport.reply({ auth: 'ok' });
    transport.reply({ event: 'host.info', data: { cpus: 5 } });
    const client = new ProtocolClient(await authed, methods, { events });
    const seen: unknown[] = [];
    client.on('host.info', (data) => seen.push(data));
    transport.reply({ event: 'host.info', data: { cpus: 6 } });
    expect(seen).toEqual([{ cpus: 6 }]);
  });

  it('authenticate rejects with ConnectError unauthenticated when the token is refused', async () => {
    const transport = new FakeTransport();
    const authed = authenticate(transport, 'wrong', 'ws://x/engine', 1000);
    transport.reply({ id: null, error: { code: 'Unauthenticated', message: 'wrong token' } });
    const error = (await authed.catch((e: unknown) => e)) as ConnectError;
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.kind).toBe('unauthenticated');
    expect(transport.closeCalls).toBe(1);
  });
});
