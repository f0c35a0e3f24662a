// QEMU's migration stream, in and out, through unix sockets in the domain's runtime dir that the
// engine serves. The engine carries the bytes itself (to a file, to another engine), so no
// `exec:` URI (a shell) and no fd passing are needed, and every byte passes code that can stop it.
//
// Outgoing: the engine listens, QEMU connects (`migrate unix:`), and the bytes go to a sink.
// Incoming: QEMU listens (`migrate-incoming unix:`, after `-incoming defer`), the engine connects
// and writes the stream. On the outgoing side a failed or cancelled migration leaves the guest
// running (QEMU resumes it); a failed incoming load makes QEMU exit.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { QmpClient } from '../qemu/index.js';
import { MigrationError } from './errors.js';

export interface MigrationProgress {
  status: string;
  /** Bytes of RAM sent so far. */
  transferred: number;
  remaining: number;
  total: number;
  /** Pre-copy passes over dirty memory so far. */
  iterations: number;
}

export interface OutgoingOptions {
  /** Bytes per second; default unlimited (a local file). */
  maxBandwidth?: number;
  /** The pause QEMU may take to send the last dirty pages, ms (QEMU's default is 300). */
  downtimeLimitMs?: number;
  onProgress?: (p: MigrationProgress) => void;
  /** Cancels the migration; the guest keeps running. */
  signal?: AbortSignal;
}

export interface OutgoingResult {
  /** Bytes written to the sink. */
  bytes: number;
  /** The guest's pause at the end of pre-copy, as QEMU measured it. */
  downtimeMs: number;
  totalMs: number;
  /** Whether the guest ran during the copy: false when it was paused already. */
  wasRunning: boolean;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * Stream the guest's state into `sink` (not ended: the caller owns it). Resolves when QEMU reports
 * the migration completed and every byte reached the sink; the guest is then stopped
 * (`postmigrate`), and the caller decides whether to `cont` or destroy it.
 */
export async function migrateOut(qmp: QmpClient, runtimeDir: string, sink: Writable, opts: OutgoingOptions = {}): Promise<OutgoingResult> {
  const status = await qmp.execute<{ status: string }>('query-status');
  const wasRunning = status.status === 'running';
  const sockPath = join(runtimeDir, `mig-${randomBytes(4).toString('hex')}.sock`);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sockPath, () => resolve());
  });
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  let bytes = 0;
  let started = false;
  try {
    await qmp.execute('migrate-set-parameters', {
      'max-bandwidth': opts.maxBandwidth ?? UNLIMITED,
      'downtime-limit': opts.downtimeLimitMs ?? 300,
    });
    await qmp.execute('migrate', { uri: `unix:${sockPath}` });
    started = true;
    const socket = await withTimeout(accepted, 30_000, 'QEMU did not connect to the migration socket within 30 s');
    server.close();
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    // The sink stays open: a save file gets fsync'd, a relocation socket gets the reply read.
    const piping = copyInto(socket, sink);
    let sinkError: unknown;
    piping.catch((err: unknown) => {
      sinkError = err;
      // The bytes cannot go anywhere: stop QEMU sending them (it resumes the guest).
      void qmp.execute('migrate_cancel').catch(() => undefined);
      socket.destroy();
    });
    const done = await waitOutgoing(qmp, opts, () => sinkError);
    if (done.status !== 'completed') {
      if (sinkError) throw sinkError;
      throw new MigrationError('MigrationFailed', `QEMU's migration ${done.status}${done.error ? `: ${done.error}` : ''}`);
    }
    await piping;
    if (sinkError) throw sinkError;
    return { bytes, downtimeMs: done.downtime ?? 0, totalMs: done.totalTime ?? 0, wasRunning };
  } catch (err) {
    if (started) await cancelAndSettle(qmp);
    throw err;
  } finally {
    server.close();
  }
}

interface QueryMigrate {
  status?: string;
  'error-desc'?: string;
  downtime?: number;
  'total-time'?: number;
  ram?: { transferred: number; remaining: number; total: number; 'dirty-sync-count'?: number };
}

async function waitOutgoing(
  qmp: QmpClient,
  opts: OutgoingOptions,
  failed: () => unknown,
): Promise<{ status: string; error?: string; downtime?: number; totalTime?: number }> {
  let cancelled = false;
  for (;;) {
    if (opts.signal?.aborted && !cancelled) {
      cancelled = true;
      await qmp.execute('migrate_cancel').catch(() => undefined);
    }
    const q = await qmp.execute<QueryMigrate>('query-migrate');
    const status = q.status ?? 'none';
    if (q.ram) {
      opts.onProgress?.({
        status,
        transferred: q.ram.transferred,
        remaining: q.ram.remaining,
        total: q.ram.total,
        iterations: q.ram['dirty-sync-count'] ?? 0,
      });
    }
    if (status === 'completed' || status === 'failed' || status === 'cancelled') {
      return { status, error: q['error-desc'] ?? (failed() as Error | undefined)?.message, downtime: q.downtime, totalTime: q['total-time'] };
    }
    await delay(status === 'device' ? 5 : 50);
  }
}

/** After a failure: make sure QEMU is not migrating any more, so the guest runs on. */
async function cancelAndSettle(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate_cancel').catch(() => undefined);
  for (let i = 0; i < 200; i++) {
    const q = await qmp.execute<QueryMigrate>('query-migrate').catch(() => undefined);
    if (!q || q.status === undefined || ['completed', 'failed', 'cancelled', 'none'].includes(q.status)) return;
    await delay(50);
  }
}

/**
 * Feed a migration stream to a QEMU started with `-incoming defer`. Resolves once QEMU has loaded
 * the whole guest (it then sits paused); rejects if the stream is bad (QEMU exits) or the source ends early.
 */
export async function migrateIn(qmp: QmpClient, runtimeDir: string, source: Readable): Promise<void> {
  const sockPath = join(runtimeDir, 'mig-in.sock');
  await qmp.execute('migrate-incoming', { uri: `unix:${sockPath}` });
  const socket = net.createConnection({ path: sockPath });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let streamError: unknown;
  // Not stream.pipeline: it destroys the source when done, and a relocation socket must stay
  // writable for the reply to the sending engine.
  const piping = copyInto(source, socket)
    .then(() => void socket.end())
    .catch((err: unknown) => {
      streamError = err;
      socket.destroy();
    });
  const qemuGone = qmp.closed.then(() => 'closed' as const);
  let brokenAt: number | undefined;
  for (;;) {
    const state = await Promise.race([qmp.execute<{ status: string }>('query-status').catch(() => undefined), qemuGone]);
    if (state === 'closed' || state === undefined) {
      throw new MigrationError('RestoreFailed', `QEMU could not load the guest's state${streamError ? ` (${(streamError as Error).message})` : ''}; see qemu.log`);
    }
    if (state.status !== 'inmigrate') {
      await piping;
      socket.destroy();
      if (state.status === 'paused' || state.status === 'prelaunch') return;
      throw new MigrationError('RestoreFailed', `QEMU ended the incoming migration in state '${state.status}'`);
    }
    // QEMU closes its end as soon as it has read the whole stream, so our last write may fail just
    // before it reports completion: a broken stream only counts if QEMU does not finish soon after.
    if (streamError) {
      brokenAt ??= Date.now();
      if (Date.now() - brokenAt > 30_000) {
        throw new MigrationError('RestoreFailed', `the migration stream broke off: ${(streamError as Error).message}`);
      }
    }
    await delay(50);
  }
}

/**
 * Copy `src` into `sink` without ending it (stream.pipeline with `end: false` waits for a finish
 * that never comes) and without destroying `src`. Resolves once every chunk was accepted by the sink; a sink error rejects.
 */
export function copyInto(src: Readable, sink: Writable): Promise<void> {
  // Event-based rather than an async iterator: a failing sink (QEMU closing its end after the whole
  // stream) must stop the copy without destroying `src`, which may be a relocation socket that
  // still has to carry the reply.
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('error', finish);
      src.off('close', onClose);
      sink.off('drain', onDrain);
      sink.off('error', finish);
      if (err) {
        src.pause();
        reject(err);
        return;
      }
      // An empty write's callback runs after every earlier write has been handled.
      sink.write(Buffer.alloc(0), (e) => (e ? reject(e) : resolve()));
    };
    const onData = (chunk: Buffer) => {
      if (!sink.write(chunk)) src.pause();
    };
    const onDrain = () => src.resume();
    const onEnd = () => finish();
    const onClose = () => finish(new Error('the stream closed before its end'));
    src.on('data', onData);
    src.once('end', onEnd);
    src.once('error', finish);
    src.once('close', onClose);
    sink.on('drain', onDrain);
    sink.once('error', finish);
    src.resume();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MigrationError('MigrationFailed', message)), ms);
    }),
  ]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
