// The QMP client against a fake transport: every protocol rule the engine relies on, without
// sockets or QEMU (tests/integration/qmp-real-qemu.test.ts covers the real thing).

import { Buffer } from 'node:buffer';
import { describe, expect, it, vi } from 'vitest';
import {
  ConnectError,
  DisconnectedError,
  EventTimeoutError,
  ExecTimeoutError,
  ExecuteError,
  LineSplitter,
  ProtocolError,
  QmpClient,
  StateError,
} from '../../engine/qemu/qmp/index.js';
import type { CloseReason, QmpClientOptions, QmpTransport } from '../../engine/qemu/qmp/index.js';

const GREETING = {
  QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] },
};

interface Sent {
  execute: string;
  arguments?: Record<string, unknown>;
  id: string;
}

/** An object-literal transport the test drives by hand. */
function fakeTransport() {
  let lineCb: ((line: string) => void) | undefined;
  let closeCb: ((error?: Error) => void) | undefined;
  let closed = false;
  const lines: string[] = [];
  const waiting: ((sent: Sent) => void)[] = [];
  const queued: Sent[] = [];
  let closeCalls = 0;

  const transport: QmpTransport = {
    write(line) {
      if (closed) return;
      lines.push(line);
      const sent = JSON.parse(line) as Sent;
      const waiter = waiting.shift();
      if (waiter) waiter(sent);
      else queued.push(sent);
    },
    onLine(cb) {
      lineCb = cb;
    },
    onClose(cb) {
      closeCb = cb;
    },
    close() {
      closeCalls++;
      // A socket reports its close asynchronously, after destroy() returns.
      if (!closed) queueMicrotask(() => hangUp());
    },
  };

  function hangUp(error?: Error) {
    if (closed) return;
    closed = true;
    closeCb?.(error);
  }

  return {
    transport,
    lines,
    get closeCalls() {
      return closeCalls;
    },
    /** QEMU sends one line (an object is JSON-encoded). */
    send(message: unknown) {
      lineCb?.(typeof message === 'string' ? message : JSON.stringify(message));
    },
    /** The next command the client writes. */
    next(): Promise<Sent> {
      const sent = queued.shift();
      if (sent) return Promise.resolve(sent);
      return new Promise((resolve) => waiting.push(resolve));
    },
    hangUp,
  };
}

type Fake = ReturnType<typeof fakeTransport>;

async function connected(opts: QmpClientOptions = {}): Promise<{ client: QmpClient; fake: Fake }> {
  const fake = fakeTransport();
  const client = new QmpClient(opts);
  const connecting = client.connect(fake.transport);
  fake.send(GREETING);
  const caps = await fake.next();
  fake.send({ return: {}, id: caps.id });
  await connecting;
  return { client, fake };
}

function event(name: string, data?: Record<string, unknown>) {
  return { event: name, ...(data ? { data } : {}), timestamp: { seconds: 1700000000, microseconds: 5 } };
}

describe('QMP handshake', () => {
  it('reads the greeting, negotiates capabilities, then runs', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    expect(client.state).toBe('idle');
    const connecting = client.connect(fake.transport);
    expect(client.state).toBe('connecting');
    expect(() => client.version).toThrow(StateError);

    fake.send(GREETING);
    const caps = await fake.next();
    expect(caps).toEqual({ execute: 'qmp_capabilities', id: caps.id });
    expect(client.state).toBe('connecting');
    fake.send({ return: {}, id: caps.id });
    await connecting;

    expect(client.state).toBe('running');
    expect(client.version).toEqual({ major: 7, minor: 2, micro: 22 });
    expect(client.greeting?.capabilities).toEqual(['oob']);
  });

  it('refuses execute while connecting and a second connect', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    const connecting = client.connect(fake.transport);
    await expect(client.execute('query-status')).rejects.toThrow(StateError);
    await expect(client.connect(fakeTransport().transport)).rejects.toThrow(StateError);
    fake.send(GREETING);
    fake.send({ return: {}, id: (await fake.next()).id });
    await connecting;
    await expect(client.connect(fakeTransport().transport)).rejects.toThrow(StateError);
  });

  it('fails with ConnectError bad-greeting when the peer does not speak QMP, and closes it', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    const connecting = client.connect(fake.transport, { peer: 'QMP socket /run/dom0/x/qmp.sock' });
    fake.send('Linux version 6.1.0 (serial console output)');
    const error = await connecting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ kind: 'bad-greeting', path: 'QMP socket /run/dom0/x/qmp.sock' });
    expect((error as Error).message).toContain('/run/dom0/x/qmp.sock');
    expect((error as Error).cause).toBeInstanceOf(ProtocolError);
    await client.closed;
    expect(client.state).toBe('closed');
    expect(fake.closeCalls).toBe(1);
  });

  it('rejects a greeting of the wrong shape and a reply before the greeting', async () => {
    for (const first of [{ QMP: { version: { qemu: { major: '7' } } } }, { return: {}, id: 'dom0-1' }]) {
      const fake = fakeTransport();
      const client = new QmpClient();
      const connecting = client.connect(fake.transport);
      fake.send(first);
      await expect(connecting).rejects.toMatchObject({ name: 'ConnectError', kind: 'bad-greeting' });
    }
  });

  it('fails with negotiation-failed when QEMU refuses qmp_capabilities', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    const connecting = client.connect(fake.transport);
    fake.send(GREETING);
    const caps = await fake.next();
    fake.send({ id: caps.id, error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete' } });
    await expect(connecting).rejects.toMatchObject({ kind: 'negotiation-failed' });
    expect((await client.closed).kind).toBe('handshake');
  });

  it('times out when no greeting comes (another client holds the monitor)', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    const error = await client.connect(fake.transport, { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConnectError', kind: 'timeout' });
    expect((error as Error).message).toMatch(/within 20 ms.*another client/);
    expect(client.state).toBe('closed');
  });

  it('reports a hang-up during the handshake as ConnectError closed', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    const connecting = client.connect(fake.transport);
    fake.hangUp();
    await expect(connecting).rejects.toMatchObject({ kind: 'closed' });
    expect(await client.closed).toEqual({ kind: 'remote', error: undefined });
  });

  it('reports close() during the handshake as ConnectError aborted', async () => {
    const fake = fakeTransport();
    const client = new QmpClient();
    const connecting = client.connect(fake.transport);
    const closing = client.close();
    await expect(connecting).rejects.toMatchObject({ kind: 'aborted' });
    await closing;
    expect(client.closeReason).toEqual({ kind: 'local' });
  });
});

describe('QMP commands', () => {
  it('assigns unique ids and matches replies by id, also out of order', async () => {
    const { client, fake } = await connected();
    const a = client.execute('query-status');
    const b = client.execute('query-name');
    const c = client.execute('query-kvm');
    const [sa, sb, sc] = [await fake.next(), await fake.next(), await fake.next()];
    expect(new Set([sa.id, sb.id, sc.id]).size).toBe(3);
    for (const s of [sa, sb, sc]) expect(s.id).toMatch(/^dom0-\d+$/);

    fake.send({ return: { enabled: false, present: true }, id: sc.id });
    fake.send({ return: { status: 'running', running: true }, id: sa.id });
    fake.send({ return: { name: 'web1' }, id: sb.id });
    expect(await a).toEqual({ status: 'running', running: true });
    expect(await b).toEqual({ name: 'web1' });
    expect(await c).toEqual({ enabled: false, present: true });
  });

  it('serialises arguments with JSON.stringify only: quotes and newlines cannot inject a command', async () => {
    const { client, fake } = await connected();
    const evil = 'x"}, "execute": "quit"}\n{"execute": "quit';
    const done = client.execute('human-monitor-command', { 'command-line': evil });
    const sent = await fake.next();
    expect(fake.lines.at(-1)).not.toContain('\n');
    expect(sent).toEqual({ execute: 'human-monitor-command', arguments: { 'command-line': evil }, id: sent.id });
    fake.send({ return: '', id: sent.id });
    await done;
  });

  it('refuses arguments that are not an object or not JSON', async () => {
    const { client } = await connected();
    await expect(client.execute('stop', [] as unknown as object)).rejects.toThrow(TypeError);
    await expect(client.execute('balloon', { value: 1n })).rejects.toThrow(TypeError);
    await expect(client.execute('')).rejects.toThrow(TypeError);
    expect(client.state).toBe('running');
  });

  it('turns an error reply into ExecuteError with command, class and desc', async () => {
    const { client, fake } = await connected();
    const done = client.execute('device_del', { id: 'disk9' });
    const sent = await fake.next();
    fake.send({ id: sent.id, error: { class: 'DeviceNotFound', desc: "Device 'disk9' not found" } });
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecuteError);
    expect(error).toMatchObject({ command: 'device_del', errorClass: 'DeviceNotFound', desc: "Device 'disk9' not found" });
    expect((error as Error).message).toBe("QMP command 'device_del' failed: Device 'disk9' not found");
    expect(client.state).toBe('running');
  });

  it('times a command out, keeps the connection, and drops the late reply', async () => {
    const { client, fake } = await connected();
    const slow = client.execute('query-migrate', undefined, { timeoutMs: 20 });
    const sent = await fake.next();
    const error = await slow.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecTimeoutError);
    expect(error).toMatchObject({ command: 'query-migrate', timeoutMs: 20 });
    expect((error as Error).message).toContain("'query-migrate'");
    expect((error as Error).message).toContain('20 ms');

    fake.send({ return: { status: 'completed' }, id: sent.id });
    expect(client.state).toBe('running');
    const next = client.execute('query-status');
    fake.send({ return: { status: 'paused' }, id: (await fake.next()).id });
    expect(await next).toEqual({ status: 'paused' });
  });

  it('uses the default command timeout from the options', async () => {
    const { client, fake } = await connected({ commandTimeoutMs: 15 });
    const done = client.execute('query-status');
    await fake.next();
    await expect(done).rejects.toMatchObject({ name: 'ExecTimeoutError', timeoutMs: 15 });
  });

  it('refuses execute before connect and after close with StateError', async () => {
    await expect(new QmpClient().execute('query-status')).rejects.toThrow(StateError);
    const { client } = await connected();
    await client.close();
    const error = await client.execute('query-status').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect(error).toMatchObject({ state: 'closed' });
  });
});

describe('QMP connection end', () => {
  it('close() fails every pending command, fires onClose once, resolves closed', async () => {
    const { client, fake } = await connected();
    const onClose = vi.fn<(reason: CloseReason) => void>();
    client.onClose(onClose);
    const pending = [client.execute('query-status'), client.execute('query-block')];
    const closing = client.close();
    expect(client.state).toBe('disconnecting');
    const results = await Promise.allSettled(pending);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as DisconnectedError;
      expect(reason).toBeInstanceOf(DisconnectedError);
      expect(reason.reason).toEqual({ kind: 'local' });
    }
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ command: 'query-status' });
    await closing;
    await client.close();
    expect(client.state).toBe('closed');
    expect(await client.closed).toEqual({ kind: 'local' });
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(fake.closeCalls).toBe(1);
  });

  it('a hang-up by QEMU fails pending commands with DisconnectedError and says so', async () => {
    const { client, fake } = await connected();
    const onClose = vi.fn<(reason: CloseReason) => void>();
    client.onClose(onClose);
    const pending = client.execute('query-status');
    await fake.next();
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    fake.hangUp(reset);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DisconnectedError);
    expect((error as Error).message).toMatch(/^QEMU closed the QMP connection.*\(the domain's QEMU exited\?\)$/);
    expect((error as Error).cause).toBe(reset);
    expect(await client.closed).toEqual({ kind: 'remote', error: reset });
    expect(client.state).toBe('closed');
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledWith({ kind: 'remote', error: reset });
  });

  it('calls an onClose listener registered after the end once, asynchronously; dispose stops it', async () => {
    const { client, fake } = await connected();
    fake.hangUp();
    await client.closed;
    const late = vi.fn();
    const disposed = vi.fn();
    client.onClose(late);
    client.onClose(disposed).dispose();
    expect(late).not.toHaveBeenCalled();
    await Promise.resolve();
    expect(late).toHaveBeenCalledTimes(1);
    expect(disposed).not.toHaveBeenCalled();
  });

  it('survives a throwing onClose listener', async () => {
    const onListenerError = vi.fn();
    const { client, fake } = await connected({ onListenerError });
    const second = vi.fn();
    client.onClose(() => {
      throw new Error('listener bug');
    });
    client.onClose(second);
    fake.hangUp();
    await client.closed;
    expect(second).toHaveBeenCalledTimes(1);
    expect(onListenerError).toHaveBeenCalledTimes(1);
  });
});

describe('QMP protocol violations (fatal: the connection is dropped with a ProtocolError reason)', () => {
  async function expectDropped(line: string, kind: string, opts: QmpClientOptions = {}) {
    const { client, fake } = await connected(opts);
    const pending = client.execute('query-status');
    await fake.next();
    fake.send(line);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DisconnectedError);
    expect((error as Error).cause).toBeInstanceOf(ProtocolError);
    const reason = await client.closed;
    expect(reason.kind).toBe('protocol');
    expect((reason as { error: ProtocolError }).error.kind).toBe(kind);
    expect(client.state).toBe('closed');
    expect(fake.closeCalls).toBe(1);
    return reason;
  }

  it('a malformed JSON line', async () => {
    const reason = await expectDropped('{"return": {}, "id": "dom0-2"', 'malformed-json');
    expect((reason as { error: ProtocolError }).error.excerpt).toBe('{"return": {}, "id": "dom0-2"');
  });

  it('JSON that is not an object, or of no QMP shape', async () => {
    await expectDropped('[1, 2]', 'unrecognised');
    await expectDropped('{"hello": 1}', 'unrecognised');
  });

  it('an event or error reply with fields of the wrong type', async () => {
    await expectDropped('{"event": "STOP", "timestamp": "now"}', 'invalid-message');
    await expectDropped('{"id": "dom0-2", "error": {"class": 1}}', 'invalid-message');
  });

  it('a reply to an id never issued, and an error without id', async () => {
    await expectDropped('{"return": {}, "id": "dom0-999"}', 'unknown-id');
    await expectDropped('{"return": {}, "id": 2}', 'unknown-id');
    await expectDropped('{"error": {"class": "GenericError", "desc": "JSON parse error"}}', 'server-parse-error');
  });

  it('a second greeting', async () => {
    await expectDropped(JSON.stringify(GREETING), 'unexpected-greeting');
  });

  it('a line over the size cap', async () => {
    const huge = JSON.stringify({ return: 'x'.repeat(2000), id: 'dom0-2' });
    await expectDropped(huge, 'line-too-long', { maxLineLength: 1024 });
  });

  it('ignores lines that arrive after the drop', async () => {
    const { client, fake } = await connected();
    fake.send('not json');
    fake.send(event('STOP'));
    expect((await client.closed).kind).toBe('protocol');
  });
});

describe('QMP events', () => {
  it('dispatches by name and to "*", in order, until disposed', async () => {
    const { client, fake } = await connected();
    const seen: string[] = [];
    const stop = client.events.on('STOP', (e) => seen.push(`STOP:${e.timestamp.microseconds}`));
    client.events.on('*', (e) => seen.push(`*:${e.event}`));
    client.events.on('SHUTDOWN', (e) => seen.push(`SHUTDOWN:${e.data.reason}:${e.data.guest}`));

    fake.send(event('STOP'));
    fake.send(event('SHUTDOWN', { guest: true, reason: 'guest-shutdown' }));
    stop.dispose();
    stop.dispose();
    fake.send(event('STOP'));
    expect(seen).toEqual(['STOP:5', '*:STOP', 'SHUTDOWN:guest-shutdown:true', '*:SHUTDOWN', '*:STOP']);
  });

  it('gives data {} for events without payload', async () => {
    const { client, fake } = await connected();
    const resumed = client.events.waitFor('RESUME');
    fake.send(event('RESUME'));
    expect((await resumed).data).toEqual({});
  });

  it('keeps dispatching when a listener throws, and reports the error', async () => {
    const onListenerError = vi.fn();
    const { client, fake } = await connected({ onListenerError });
    const after = vi.fn();
    client.events.on('RESET', () => {
      throw new Error('listener bug');
    });
    client.events.on('RESET', after);
    fake.send(event('RESET', { guest: true, reason: 'guest-reset' }));
    fake.send(event('RESET', { guest: false, reason: 'host-qmp-system-reset' }));
    expect(after).toHaveBeenCalledTimes(2);
    expect(onListenerError).toHaveBeenCalledTimes(2);
    expect(onListenerError.mock.calls[0]?.[1]).toMatchObject({ event: 'RESET' });

    const still = client.execute('query-status');
    fake.send({ return: { status: 'running' }, id: (await fake.next()).id });
    await expect(still).resolves.toEqual({ status: 'running' });
  });

  it('waitFor resolves with the first event passing the predicate', async () => {
    const { client, fake } = await connected();
    const deleted = client.events.waitFor('DEVICE_DELETED', { predicate: (e) => e.data.device === 'nic1' });
    fake.send(event('DEVICE_DELETED', { device: 'disk1', path: '/machine/peripheral/disk1' }));
    fake.send(event('DEVICE_DELETED', { device: 'nic1', path: '/machine/peripheral/nic1' }));
    expect((await deleted).data).toEqual({ device: 'nic1', path: '/machine/peripheral/nic1' });
  });

  it('waitFor rejects on timeout, on abort, and when the predicate throws', async () => {
    const { client, fake } = await connected();
    await expect(client.events.waitFor('SHUTDOWN', { timeoutMs: 15 })).rejects.toBeInstanceOf(EventTimeoutError);

    const controller = new AbortController();
    const aborted = client.events.waitFor('SHUTDOWN', { signal: controller.signal });
    controller.abort(new Error('domain destroyed'));
    await expect(aborted).rejects.toThrow('domain destroyed');

    const bad = client.events.waitFor('STOP', {
      predicate: () => {
        throw new Error('predicate bug');
      },
    });
    fake.send(event('STOP'));
    await expect(bad).rejects.toThrow('predicate bug');
  });

  it('waitFor rejects with DisconnectedError when the connection ends, or has ended', async () => {
    const { client, fake } = await connected();
    const shutdown = client.events.waitFor('SHUTDOWN');
    fake.hangUp();
    const error = await shutdown.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DisconnectedError);
    expect(error).toMatchObject({ reason: { kind: 'remote' } });
    await expect(client.events.waitFor('SHUTDOWN')).rejects.toBeInstanceOf(DisconnectedError);
  });
});

describe('LineSplitter (the unix-socket transport framing)', () => {
  function split(chunks: (string | Buffer)[], max?: number) {
    const splitter = new LineSplitter(max);
    const out: string[] = [];
    for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, (l) => out.push(l));
    return out;
  }

  it('joins partial chunks, splits several lines per chunk, strips \\r, skips blank lines', () => {
    expect(split(['{"a"', ':1}\r\n{"b":2}\r', '\n\r\n{"c"', ':3}\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('{"name":"dömain"}\n');
    const cut = bytes.indexOf(0xb6); // second byte of ö
    expect(split([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['{"name":"dömain"}']);
  });

  it('throws line-too-long once an unterminated line passes the cap, after delivering earlier lines', () => {
    const splitter = new LineSplitter(16);
    const out: string[] = [];
    splitter.push(Buffer.from('{"ok":1}\n0123456'), (l) => out.push(l));
    let error: unknown;
    try {
      splitter.push(Buffer.from('789abcdefghij'), (l) => out.push(l));
    } catch (e) {
      error = e;
    }
    expect(out).toEqual(['{"ok":1}']);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ kind: 'line-too-long' });
  });
});
