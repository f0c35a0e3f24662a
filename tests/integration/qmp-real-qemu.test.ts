// The QMP client against a real QEMU (machine 'none': no guest, starts in ~50 ms). Each test
// spawns its own QEMU and connects at once, relying on connectWithRetry to wait for the socket,
// as the engine does; afterEach kills whatever is left.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectError,
  DisconnectedError,
  ExecTimeoutError,
  ExecuteError,
  QmpClient,
  connectUnixSocket,
  connectWithRetry,
} from '../../engine/qemu/qmp/index.js';
import type { QmpVersion } from '../../engine/qemu/qmp/index.js';

interface Qemu {
  child: ChildProcess;
  socket: string;
  exited: Promise<void>;
  stderr: () => string;
}

const qemus: Qemu[] = [];
const clients: QmpClient[] = [];
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dom0-qmp-'));
  dirs.push(dir);
  return dir;
}

function startQemu(): Qemu {
  const socket = join(tempDir(), 'qmp.sock');
  const child = spawn(
    'qemu-system-x86_64',
    ['-M', 'none', '-accel', 'tcg', '-display', 'none', '-nodefaults', '-no-user-config', '-S',
      '-qmp', `unix:${socket},server=on,wait=off`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const qemu = { child, socket, exited, stderr: () => stderr };
  qemus.push(qemu);
  return qemu;
}

async function startAndConnect(): Promise<{ qemu: Qemu; client: QmpClient }> {
  const qemu = startQemu();
  const client = await connectWithRetry(qemu.socket, { deadlineMs: 10_000 });
  clients.push(client);
  return { qemu, client };
}

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const qemu of qemus.splice(0)) {
    if (qemu.child.exitCode === null && qemu.child.signalCode === null) qemu.child.kill('SIGKILL');
    await qemu.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('QMP client against real QEMU', () => {
  it('connects as QEMU starts; query-version matches the greeting', async () => {
    const { client } = await startAndConnect();
    expect(client.state).toBe('running');
    const reply = await client.execute<{ qemu: QmpVersion; package: string }>('query-version');
    expect(reply.qemu).toEqual(client.version);
    expect(reply.package).toBe(client.greeting?.version.package);
    expect(client.version.major).toBeGreaterThanOrEqual(7);
  });

  it('reports a QEMU started with -S as not running', async () => {
    const { client } = await startAndConnect();
    const status = await client.execute<{ status: string; running: boolean }>('query-status');
    expect(['prelaunch', 'paused']).toContain(status.status);
    expect(status.running).toBe(false);
  });

  it('cont and stop emit RESUME and STOP', async () => {
    const { client } = await startAndConnect();
    const resumed = client.events.waitFor('RESUME', { timeoutMs: 5000 });
    await client.execute('cont');
    expect((await resumed).event).toBe('RESUME');
    expect(await client.execute('query-status')).toMatchObject({ status: 'running', running: true });

    const stopped = client.events.waitFor('STOP', { timeoutMs: 5000 });
    await client.execute('stop');
    expect((await stopped).timestamp.seconds).toBeGreaterThan(0);
    expect(await client.execute('query-status')).toMatchObject({ status: 'paused', running: false });
  });

  it('an unknown command is an ExecuteError of class CommandNotFound, and the client goes on', async () => {
    const { client } = await startAndConnect();
    const error = await client.execute('no-such-command').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecuteError);
    expect(error).toMatchObject({ command: 'no-such-command', errorClass: 'CommandNotFound' });
    await expect(client.execute('query-status')).resolves.toBeDefined();
  });

  it('quit: SHUTDOWN, then the connection closes and a pending command fails', async () => {
    const { qemu, client } = await startAndConnect();
    const shutdown = client.events.waitFor('SHUTDOWN', { timeoutMs: 5000 });
    const quit = client.execute('quit');
    // Sent right behind quit: QEMU exits without reading it (seen on QEMU 7.2 every time).
    const pending = client.execute('query-status');
    expect((await shutdown).data).toEqual({ guest: false, reason: 'host-qmp-quit' });
    await quit;
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DisconnectedError);
    expect(error).toMatchObject({ command: 'query-status', reason: { kind: 'remote' } });
    expect((await client.closed).kind).toBe('remote');
    expect(client.state).toBe('closed');
    await qemu.exited;
  });

  it('a frozen QEMU times a command out; killing it fails the pending one and ends the connection', async () => {
    const { qemu, client } = await startAndConnect();
    qemu.child.kill('SIGSTOP');
    const timedOut = await client.execute('query-status', undefined, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ExecTimeoutError);
    expect(client.state).toBe('running');

    const pending = client.execute('query-status');
    qemu.child.kill('SIGKILL');
    await expect(pending).rejects.toBeInstanceOf(DisconnectedError);
    expect((await client.closed).kind).toBe('remote');

    // The killed QEMU left its socket file behind: a stale socket is 'refused', not 'missing'.
    await qemu.exited;
    await expect(QmpClient.connect(qemu.socket)).rejects.toMatchObject({ name: 'ConnectError', kind: 'refused' });
  });

  it('a second client gets no greeting while the first holds the monitor', async () => {
    const { qemu } = await startAndConnect();
    const error = await QmpClient.connect(qemu.socket, { connectTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect((error as Error).message).toContain(qemu.socket);
  });

  it('connecting to a missing socket is a ConnectError naming the path', async () => {
    const socket = join(tempDir(), 'nothing-here.sock');
    const error = await QmpClient.connect(socket).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ kind: 'missing', path: socket, retryable: true });
    expect((error as Error).message).toContain(socket);

    const started = performance.now();
    const retried = await connectWithRetry(socket, { deadlineMs: 150 }).catch((e: unknown) => e);
    expect(retried).toMatchObject({ name: 'ConnectError', kind: 'missing' });
    expect((retried as Error).message).toContain('after 150 ms of retries');
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });
});

describe('unix-socket transport', () => {
  it('still delivers what the peer sent before exiting when a write fails with EPIPE', async () => {
    // The race behind a lost SHUTDOWN: QEMU sends its last lines and exits, and our next write
    // fails before we have read them. Here the peer is a plain socket, so the order is exact:
    // the peer writes and closes, then we write in the same tick, before reading anything.
    const path = join(tempDir(), 'peer.sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      const transport = await connectUnixSocket(path);
      const peer = await accepted;
      const lines: string[] = [];
      transport.onLine((line) => lines.push(line));
      const closed = new Promise<Error | undefined>((resolve) => transport.onClose(resolve));

      peer.write('{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}\r\n{"return": {}, "id": "dom0-2"}\r\n');
      peer.destroy();
      transport.write('{"execute": "query-status", "id": "dom0-3"}');
      transport.write('{"execute": "query-status", "id": "dom0-4"}');

      await closed;
      expect(lines).toEqual([
        '{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}',
        '{"return": {}, "id": "dom0-2"}',
      ]);
    } finally {
      server.close();
    }
  });
});
