// The protocol server against a fake transport: every refusal and every promise about one client
// not hurting others, without sockets (tests/integration/protocol-*.test.ts use real ones).

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineEvents, defineMethods, defineStreams, RpcError } from '../../engine/protocol/common/index.js';
import { LineReader, ProtocolServer } from '../../engine/protocol/node/index.js';
import type { CloseWhy, Handlers, ProtocolLogger, ServerLimits, ServerTransport } from '../../engine/protocol/index.js';

const methods = defineMethods({
  'demo.echo': {
    params: z.object({ text: z.string(), times: z.number().int().min(1).optional() }),
    result: z.object({ text: z.string() }),
    doc: 'Echoes text. Always allowed.',
  },
  'demo.wait': { params: z.object({ key: z.string() }), result: z.string(), doc: 'Answers when the test releases the key.' },
  'demo.fail': { params: z.object({ how: z.enum(['coded', 'plain', 'sync', 'data']) }), result: z.void(), doc: 'Fails.' },
  'demo.broken': { params: z.void(), result: z.object({ n: z.number() }), doc: 'Returns an invalid result (a bug).' },
  'demo.leaky': { params: z.void(), result: z.object({ name: z.string() }), doc: 'Returns extra fields.' },
  'demo.void': { params: z.void(), result: z.void(), doc: 'Returns nothing.' },
});

const events = defineEvents({
  'domain.state': { data: z.object({ name: z.string(), state: z.string() }), doc: 'A domain changed state.' },
  'domain.stats': { data: z.object({ name: z.string(), cpu: z.number() }), doc: 'A stats sample.' },
  'host.info': { data: z.object({ cpus: z.number() }), doc: 'Host facts changed.' },
});

const streams = defineStreams({
  'demo.pipe': { params: z.object({ size: z.number().int() }), doc: 'A byte pipe.' },
});

interface Fake {
  transport: ServerTransport;
  sent: Record<string, unknown>[];
  buffered: number;
  ended: CloseWhy | undefined;
  destroyed: CloseWhy | undefined;
  paused: boolean;
  streamAck: string | undefined;
}

function fakeTransport(): Fake {
  const fake: Fake = {
    sent: [],
    buffered: 0,
    ended: undefined,
    destroyed: undefined,
    paused: false,
    streamAck: undefined,
    transport: undefined as unknown as ServerTransport,
  };
  fake.transport = {
    kind: 'fake',
    remote: 'test',
    send: (text) => void fake.sent.push(JSON.parse(text) as Record<string, unknown>),
    bufferedBytes: () => fake.buffered,
    end: (why) => void (fake.ended = why),
    destroy: (why) => void (fake.destroyed = why),
    pauseInput: () => void (fake.paused = true),
    resumeInput: () => void (fake.paused = false),
    becomeStream: (ack) => void (fake.streamAck = ack),
  };
  return fake;
}

function quietLog(): ProtocolLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (m) => void warnings.push(m), error: (m) => void errors.push(m) };
}

function setup(opts: { limits?: ServerLimits; token?: string } = {}) {
  const log = quietLog();
  const calls: string[] = [];
  const waiting = new Map<string, (value: string) => void>();
  const handlers: Handlers<typeof methods> = {
    'demo.echo': ({ text, times }) => {
      calls.push('demo.echo');
      return { text: text.repeat(times ?? 1) };
    },
    'demo.wait': ({ key }) => {
      calls.push('demo.wait');
      return new Promise((resolve) => waiting.set(key, resolve));
    },
    'demo.fail': async ({ how }) => {
      calls.push('demo.fail');
      if (how === 'coded') throw Object.assign(new Error("domain 'web' does not exist"), { code: 'NoSuchDomain' });
      if (how === 'data') throw new RpcError('InvalidState', 'web is running', { state: 'running' });
      if (how === 'sync') throw new TypeError('boom');
      throw new Error('disk on fire');
    },
    'demo.broken': () => ({ n: 'not a number' }) as unknown as { n: number },
    'demo.leaky': () => ({ name: 'web', secret: 'hunter2' }) as { name: string },
    'demo.void': () => undefined,
  };
  const server = new ProtocolServer({
    methods,
    handlers,
    events,
    streams,
    streamOpeners: { 'demo.pipe': async () => ({}) as never },
    limits: opts.limits,
    log,
  });
  const fake = fakeTransport();
  const connection = server.accept(fake.transport, opts.token === undefined ? {} : { token: opts.token });
  const send = (message: unknown) => connection.receive(typeof message === 'string' ? message : JSON.stringify(message));
  const release = (key: string, value: string) => waiting.get(key)?.(value);
  return { server, fake, connection, send, log, calls, release, waiting };
}

const last = (fake: Fake) => fake.sent.at(-1);

describe('requests', () => {
  it('answers a valid request with its result, stripped to the schema', async () => {
    const { fake, send } = setup();
    send({ id: 1, method: 'demo.echo', params: { text: 'ab', times: 2 } });
    send({ id: 'x', method: 'demo.leaky' });
    await vi.waitFor(() => expect(fake.sent).toHaveLength(2));
    expect(fake.sent).toContainEqual({ id: 1, result: { text: 'abab' } });
    expect(fake.sent).toContainEqual({ id: 'x', result: { name: 'web' } });
  });

  it('sends a void result as null', async () => {
    const { fake, send } = setup();
    send({ id: 3, method: 'demo.void' });
    await vi.waitFor(() => expect(last(fake)).toEqual({ id: 3, result: null }));
  });

  it('answers malformed JSON with ParseError and id null, and runs nothing', () => {
    const { fake, send, calls } = setup();
    send('{"id": 1, "method": "demo.echo", ');
    expect(last(fake)).toMatchObject({ id: null, error: { code: 'ParseError' } });
    expect(calls).toEqual([]);
  });

  it.each([
    ['an array', '[1,2]', null],
    ['a number', '42', null],
    ['a request without id', '{"method":"demo.echo","params":{"text":"a"}}', null],
    ['a request with a non-string method', '{"id":7,"method":5}', 7],
    ['an object of no known kind', '{"hello":"there"}', null],
    ['an id that is an object', '{"id":{"a":1},"method":"demo.echo"}', null],
  ])('answers %s with InvalidRequest', (_what, text, id) => {
    const { fake, send, calls } = setup();
    send(text);
    expect(last(fake)).toMatchObject({ id, error: { code: 'InvalidRequest' } });
    expect(calls).toEqual([]);
  });

  it('answers an unknown method with MethodNotFound, prototype names included', () => {
    const { fake, send } = setup();
    for (const method of ['domain.nope', 'constructor', '__proto__', 'toString']) {
      send({ id: 1, method });
      expect(last(fake)).toMatchObject({ id: 1, error: { code: 'MethodNotFound' } });
    }
  });

  it('answers bad params with InvalidParams naming the field, and runs nothing', () => {
    const { fake, send, calls } = setup();
    send({ id: 4, method: 'demo.echo', params: { text: 5 } });
    const reply = last(fake) as { error: { code: string; message: string; data: { issues: { path: unknown[] }[] } } };
    expect(reply.error.code).toBe('InvalidParams');
    expect(reply.error.message).toMatch(/^invalid params for 'demo\.echo': text: /);
    expect(reply.error.data.issues[0]?.path).toEqual(['text']);
    send({ id: 5, method: 'demo.echo' });
    expect(last(fake)).toMatchObject({ id: 5, error: { code: 'InvalidParams' } });
    send({ id: 6, method: 'demo.void', params: { unexpected: true } });
    expect(last(fake)).toMatchObject({ id: 6, error: { code: 'InvalidParams' } });
    expect(calls).toEqual([]);
  });

  it('turns a result that does not match its schema into Internal, and logs the bug', async () => {
    const { fake, send, log } = setup();
    send({ id: 8, method: 'demo.broken' });
    await vi.waitFor(() => expect(last(fake)).toMatchObject({ id: 8, error: { code: 'Internal' } }));
    expect((last(fake) as { error: { message: string } }).error.message).toMatch(/invalid result for 'demo\.broken' \(n: /);
    expect(log.errors.join('\n')).toMatch(/bug: the result of 'demo\.broken' does not match its schema/);
  });

  it('passes errors with a code through, and turns others into Internal', async () => {
    const { fake, send, log } = setup();
    send({ id: 1, method: 'demo.fail', params: { how: 'coded' } });
    send({ id: 2, method: 'demo.fail', params: { how: 'data' } });
    send({ id: 3, method: 'demo.fail', params: { how: 'plain' } });
    send({ id: 4, method: 'demo.fail', params: { how: 'sync' } });
    await vi.waitFor(() => expect(fake.sent).toHaveLength(4));
    const byId = (id: number) => fake.sent.find((m) => m.id === id);
    expect(byId(1)).toEqual({ id: 1, error: { code: 'NoSuchDomain', message: "domain 'web' does not exist" } });
    expect(byId(2)).toEqual({ id: 2, error: { code: 'InvalidState', message: 'web is running', data: { state: 'running' } } });
    expect(byId(3)).toEqual({ id: 3, error: { code: 'Internal', message: 'disk on fire' } });
    expect(byId(4)).toEqual({ id: 4, error: { code: 'Internal', message: 'boom' } });
    expect(log.errors).toHaveLength(2);
  });

  it('runs requests concurrently and answers in completion order', async () => {
    const { fake, send, release, waiting } = setup();
    send({ id: 1, method: 'demo.wait', params: { key: 'a' } });
    send({ id: 2, method: 'demo.wait', params: { key: 'b' } });
    await vi.waitFor(() => expect(waiting.size).toBe(2));
    release('b', 'second');
    await vi.waitFor(() => expect(fake.sent).toEqual([{ id: 2, result: 'second' }]));
    release('a', 'first');
    await vi.waitFor(() => expect(fake.sent).toHaveLength(2));
  });

  it('pauses the input of a connection at maxInFlight and resumes it as requests finish', async () => {
    const { fake, send, release, waiting, calls } = setup({ limits: { maxInFlight: 2 } });
    for (const key of ['a', 'b', 'c', 'd']) send({ id: key, method: 'demo.wait', params: { key } });
    await vi.waitFor(() => expect(waiting.size).toBe(2));
    expect(fake.paused).toBe(true);
    expect(calls).toHaveLength(2);
    release('a', 'A');
    await vi.waitFor(() => expect(waiting.has('c')).toBe(true));
    release('b', 'B');
    await vi.waitFor(() => expect(waiting.has('d')).toBe(true));
    expect(fake.paused).toBe(false);
  });

  it('aborts the context signal when the connection closes', async () => {
    const log = quietLog();
    let seen: AbortSignal | undefined;
    const table = defineMethods({ 'demo.hang': { params: z.void(), result: z.void(), doc: 'Never answers.' } });
    const server = new ProtocolServer({
      methods: table,
      handlers: { 'demo.hang': (_p, ctx) => new Promise<void>(() => void (seen = ctx.signal)) },
      log,
    });
    const fake = fakeTransport();
    const connection = server.accept(fake.transport);
    connection.receive(JSON.stringify({ id: 1, method: 'demo.hang' }));
    await vi.waitFor(() => expect(seen).toBeDefined());
    expect(seen?.aborted).toBe(false);
    connection.closed();
    expect(seen?.aborted).toBe(true);
    expect(server.connectionCount).toBe(0);
  });

  it('refuses to start without a handler for every method', () => {
    expect(() => new ProtocolServer({ methods, handlers: {} as Handlers<typeof methods>, log: quietLog() })).toThrow(
      /no handler for method 'demo\.echo'/,
    );
  });

  it('answers TooLarge and ends the connection when a transport reports an oversized message', () => {
    const { fake, connection } = setup();
    connection.tooLarge(5_000_000);
    expect(last(fake)).toMatchObject({ id: null, error: { code: 'TooLarge' } });
    expect(fake.ended).toBe('too-large');
  });

  it('closes a connection that keeps sending garbage', () => {
    const { fake, send, log } = setup({ limits: { maxProtocolErrors: 3 } });
    send('nope');
    send('nope');
    expect(fake.ended).toBeUndefined();
    send('nope');
    expect(fake.ended).toBe('garbage');
    expect(log.warnings.join('\n')).toMatch(/closed after 3 malformed/);
  });

  it('answers what runs, then ends, when the client half-closes', async () => {
    const { fake, send, connection, release, waiting } = setup();
    send({ id: 1, method: 'demo.wait', params: { key: 'a' } });
    connection.inputEnded();
    await vi.waitFor(() => expect(waiting.size).toBe(1));
    expect(fake.ended).toBeUndefined();
    release('a', 'done');
    await vi.waitFor(() => expect(fake.ended).toBe('shutdown'));
    expect(fake.sent).toEqual([{ id: 1, result: 'done' }]);
  });
});

describe('authentication', () => {
  const token = 'correct-horse-battery-staple';

  it('refuses every request before authentication, and runs nothing', () => {
    const { fake, send, calls } = setup({ token });
    send({ id: 1, method: 'demo.echo', params: { text: 'a' } });
    expect(last(fake)).toMatchObject({ id: 1, error: { code: 'Unauthenticated' } });
    send({ id: 2, method: 'events.subscribe', params: { topics: ['*'] } });
    expect(last(fake)).toMatchObject({ id: 2, error: { code: 'Unauthenticated' } });
    expect(calls).toEqual([]);
    expect(fake.ended).toBeUndefined();
  });

  it('accepts the right token, then serves requests', async () => {
    const { fake, send } = setup({ token });
    send({ auth: token });
    expect(last(fake)).toEqual({ auth: 'ok' });
    send({ id: 1, method: 'demo.echo', params: { text: 'a' } });
    await vi.waitFor(() => expect(last(fake)).toEqual({ id: 1, result: { text: 'a' } }));
  });

  it('answers a wrong token with Unauthenticated and closes', () => {
    const { fake, send, log } = setup({ token });
    send({ auth: 'guess' });
    expect(last(fake)).toMatchObject({ id: null, error: { code: 'Unauthenticated', message: 'wrong token' } });
    expect(fake.ended).toBe('unauthenticated');
    expect(log.warnings.join('\n')).toMatch(/wrong token/);
  });

  it('closes a connection that does not authenticate in time', async () => {
    const { fake } = setup({ token, limits: { authTimeoutMs: 20 } });
    await vi.waitFor(() => expect(fake.ended).toBe('unauthenticated'));
  });

  it('does not broadcast to an unauthenticated connection', () => {
    const { server, fake } = setup({ token });
    expect(server.broadcast('domain.state', { name: 'web', state: 'running' })).toBe(0);
    expect(fake.sent).toEqual([]);
  });
});

describe('events', () => {
  it('sends only the events a connection subscribed to', async () => {
    const { server, fake, send } = setup();
    expect(server.broadcast('domain.state', { name: 'web', state: 'running' })).toBe(0);
    send({ id: 1, method: 'events.subscribe', params: { topics: ['domain.*'] } });
    await vi.waitFor(() => expect(last(fake)).toEqual({ id: 1, result: { topics: ['domain.*'] } }));
    expect(server.broadcast('domain.state', { name: 'web', state: 'running' })).toBe(1);
    expect(server.broadcast('host.info', { cpus: 4 })).toBe(0);
    expect(server.broadcast('domain.stats', { name: 'web', cpu: 0.5 })).toBe(1);
    expect(fake.sent.slice(1)).toEqual([
      { event: 'domain.state', data: { name: 'web', state: 'running' } },
      { event: 'domain.stats', data: { name: 'web', cpu: 0.5 } },
    ]);
    send({ id: 2, method: 'events.unsubscribe', params: { topics: ['domain.*'] } });
    await vi.waitFor(() => expect(last(fake)).toEqual({ id: 2, result: { topics: [] } }));
    expect(server.broadcast('domain.state', { name: 'web', state: 'paused' })).toBe(0);
  });

  it('refuses a topic that matches no event', async () => {
    const { fake, send } = setup();
    send({ id: 1, method: 'events.subscribe', params: { topics: ['domian.*'] } });
    await vi.waitFor(() => expect(last(fake)).toMatchObject({ id: 1, error: { code: 'InvalidParams' } }));
    expect((last(fake) as { error: { message: string } }).error.message).toMatch(/no event matches topic 'domian\.\*'/);
    send({ id: 2, method: 'events.subscribe', params: { topics: ['domain*'] } });
    await vi.waitFor(() => expect(last(fake)).toMatchObject({ id: 2, error: { code: 'InvalidParams' } }));
  });

  it('does not send event data that fails its schema, and logs the bug', () => {
    const { server, fake, send, log } = setup();
    send({ id: 1, method: 'events.subscribe', params: { topics: ['*'] } });
    const count = fake.sent.length;
    expect(server.broadcast('domain.state', { name: 'web' } as never)).toBe(0);
    expect(server.broadcast('nope' as never, {} as never)).toBe(0);
    expect(fake.sent).toHaveLength(count);
    expect(log.errors).toHaveLength(2);
  });

  it('cuts off a connection that is not reading instead of queueing without bound', async () => {
    const { server, fake, send, log } = setup({ limits: { maxBufferedBytes: 1000 } });
    send({ id: 1, method: 'events.subscribe', params: { topics: ['*'] } });
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1));
    fake.buffered = 5000;
    server.broadcast('host.info', { cpus: 1 });
    expect(fake.destroyed).toBe('not-reading');
    expect(fake.sent).toHaveLength(1);
    expect(log.warnings.join('\n')).toMatch(/not reading \(5000 bytes queued/);
    expect(server.connectionCount).toBe(0);
  });
});

describe('stream opens', () => {
  it('refuses an unknown kind and bad params, and closes', () => {
    for (const [message, code] of [
      [{ stream: 'nope' }, 'MethodNotFound'],
      [{ stream: 'demo.pipe', params: { size: 'big' } }, 'InvalidParams'],
    ] as const) {
      const { fake, send } = setup();
      expect(send(message)).toBe('stop');
      expect(last(fake)).toMatchObject({ ok: false, error: { code } });
      expect(fake.ended).toBe('stream-refused');
    }
  });

  it('needs the token on a connection that is not authenticated', () => {
    const { fake, send } = setup({ token: 'correct-horse-battery-staple' });
    send({ stream: 'demo.pipe', params: { size: 1 } });
    expect(last(fake)).toMatchObject({ ok: false, error: { code: 'Unauthenticated' } });
    const second = setup({ token: 'correct-horse-battery-staple' });
    second.send({ stream: 'demo.pipe', params: { size: 1 }, token: 'correct-horse-battery-staple' });
    return vi.waitFor(() => expect(second.fake.streamAck).toBe('{"ok":true}'));
  });

  it('is only allowed as the first message', async () => {
    const { fake, send } = setup();
    send({ id: 1, method: 'demo.void' });
    expect(send({ stream: 'demo.pipe', params: { size: 1 } })).toBe('more');
    await vi.waitFor(() => expect(fake.sent).toContainEqual(expect.objectContaining({ error: expect.objectContaining({ code: 'InvalidRequest' }) })));
    expect(fake.streamAck).toBeUndefined();
  });
});

describe('LineReader', () => {
  it('splits lines across chunks, skips blank lines and drops a trailing CR', () => {
    const lines: string[] = [];
    const reader = new LineReader(100, (line) => (lines.push(line), 'more'), () => undefined);
    reader.push(Buffer.from('{"a":'));
    reader.push(Buffer.from('1}\n\n{"b":2}\r\n{"c"'));
    reader.push(Buffer.from(':3}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('reports a line over the cap before it ends, then ignores the rest', () => {
    const lines: string[] = [];
    const tooLarge: number[] = [];
    const reader = new LineReader(10, (line) => (lines.push(line), 'more'), (bytes) => void tooLarge.push(bytes));
    reader.push(Buffer.from('123456'));
    reader.push(Buffer.from('7890abc'));
    expect(tooLarge).toEqual([13]);
    reader.push(Buffer.from('\n{"ok":1}\n'));
    expect(lines).toEqual([]);
  });

  it('keeps the bytes after a stopping line unsplit', () => {
    const lines: string[] = [];
    const reader = new LineReader(100, (line) => (lines.push(line), 'stop'), () => undefined);
    reader.push(Buffer.from('{"stream":"x"}\nraw\nbytes'));
    reader.push(Buffer.from('\nmore'));
    expect(lines).toEqual(['{"stream":"x"}']);
    expect(reader.takeRest().toString()).toBe('raw\nbytes\nmore');
  });
});
