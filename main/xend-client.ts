// Main's own conversations with xend, over its unix socket (the door the CLIs use; protected by
// file permissions, no token): counting running domains for the tray, and shutting every domain
// down when the user quits with "Shut Down Domains". It works the same whether the xend is ours or
// one the user started, as long as it serves this state dir.

import { connectUnix } from '../engine/protocol/node/unix-client.js';
import { xendEvents, xendMethods, type DomainRow } from '../engine/protocol/common/xend-api.js';
import { countRunning } from './tray-text.js';

/** What the watcher needs of a protocol client (ProtocolClient satisfies it). */
export interface DomainListClient {
  call(method: 'domain.list'): Promise<DomainRow[]>;
  subscribe(topics: readonly 'domain.*'[]): Promise<unknown>;
  on(event: 'domain.changed', handler: () => void): { dispose(): void };
  onClose(cb: () => void): { dispose(): void };
  close(): unknown;
}

export function connectXend(socketPath: string): Promise<DomainListClient> {
  return connectUnix(socketPath, xendMethods, { events: xendEvents, connectTimeoutMs: 2_000 });
}

/** How long `domain.shutdownAll` may wait for the guests, and for the answer. */
export const SHUTDOWN_ALL_TIMEOUT_MS = 60_000;

/** Presses every running domain's power button and waits until they are off (or the timeout). */
export async function shutdownAllDomains(socketPath: string): Promise<string[]> {
  const client = await connectUnix(socketPath, xendMethods, { connectTimeoutMs: 5_000 });
  try {
    return await client.call('domain.shutdownAll', { wait: true, timeoutMs: SHUTDOWN_ALL_TIMEOUT_MS }, { timeoutMs: SHUTDOWN_ALL_TIMEOUT_MS + 15_000 });
  } finally {
    await client.close();
  }
}

export interface DomainWatch {
  /** Running domains as last read; undefined while no xend answers. */
  readonly count: number | undefined;
  dispose(): void;
}

/**
 * Keeps `onCount` told how many domains run: reads domain.list, then re-reads it on every
 * domain.changed event (bursts coalesce into one read in flight plus one after). While no xend
 * answers (not started yet, restarting, stopped) it reports undefined and retries every retryMs.
 */
export function watchRunningDomains(opts: {
  connect: () => Promise<DomainListClient>;
  onCount: (count: number | undefined) => void;
  retryMs?: number;
}): DomainWatch {
  const retryMs = opts.retryMs ?? 2_000;
  let disposed = false;
  let count: number | undefined;
  let client: DomainListClient | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const report = (next: number | undefined) => {
    if (disposed || next === count) return;
    count = next;
    opts.onCount(next);
  };

  const retry = () => {
    if (!disposed) retryTimer = setTimeout(() => void connect(), retryMs);
  };

  const connect = async () => {
    let c: DomainListClient;
    try {
      c = await opts.connect();
    } catch {
      report(undefined);
      return retry();
    }
    if (disposed) return void c.close();
    client = c;
    let reading = false;
    let again = false;
    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const rows = await c.call('domain.list');
          if (client === c) report(countRunning(rows));
        } while (again);
      } catch {
        // The connection is going away; onClose reconnects.
      } finally {
        reading = false;
      }
    };
    c.onClose(() => {
      if (client !== c) return;
      client = undefined;
      report(undefined);
      retry();
    });
    c.on('domain.changed', () => void read());
    try {
      await c.subscribe(['domain.*']);
    } catch {
      return; // closed meanwhile: onClose retries
    }
    await read();
  };

  void connect();
  return {
    get count() {
      return count;
    },
    dispose() {
      disposed = true;
      clearTimeout(retryTimer);
      void client?.close();
      client = undefined;
    },
  };
}
