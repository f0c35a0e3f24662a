// One engine connection (the local engine or a remote one), kept up for as long as the page wants
// it. Its life:
//
//   connecting ──ok──▶ open ──engine gone──▶ retrying ──after the backoff──▶ connecting …
//        │                                       ▲
//        ├──refused, unreachable, timeout────────┘
//        └──token refused / no token──▶ unauthenticated (waits for a new token: start() again)
//   stop() from anywhere ──▶ stopped
//
// On every (re)connection it subscribes to `domain.*`, `stats.sample`, `storage.changed`, `network.changed` (Host details) and `connection.changed` (libvirt hosts the engine keeps) and then calls onOpen, so the
// stores re-read what they show; each `domain.changed` event goes to onDomainChanged, each
// `stats.sample` tick (the engine pushes one a second, nothing here polls) to onStatsSample. The
// engine's `stats.cpu` event carries a subset of the same tick, so it is not subscribed to: with
// hundreds of domains, a second event per tick would double the decoding and the re-rendering.
// Calls made while it is not open fail at once with NotConnectedError rather than waiting.
//
// Connections are kept in a registry by id, so the rest of api/ takes a connection id (`conn`).

import './csp.js';
import { ConnectError, connectBrowserWebSocket } from '../../../engine/protocol/browser/index.js';
import type { BrowserStream, CloseReason, EventDataOf, ProtocolClient } from '../../../engine/protocol/browser/index.js';
import { xendEvents, xendMethods, xendStreams } from '../../../engine/protocol/common/xend-api.js';
import type { XendEvents, XendMethods, XendStreams } from '../../../engine/protocol/common/xend-api.js';
import { MissingTokenError } from './endpoint.js';
import { NotConnectedError, toEngineError } from './errors.js';
import type { DomainChangedEvent, Endpoint } from './types.js';

type FullClient = ProtocolClient<XendMethods, XendEvents, XendStreams, BrowserStream>;

/** What the renderer uses of a protocol client; tests hand in an object with these. */
export type EngineClient = Pick<FullClient, 'call' | 'subscribe' | 'on' | 'onClose' | 'close' | 'openStream'>;

export type ClientFactory = (endpoint: Endpoint) => Promise<EngineClient>;

export type LinkStatus = 'connecting' | 'open' | 'retrying' | 'unauthenticated' | 'stopped';

export interface LinkState {
  status: LinkStatus;
  /** Why the last attempt failed or the connection ended, in plain words. */
  error?: string;
  /** retrying: how long until the next attempt. */
  retryInMs?: number;
  /** Whether this connection was ever open (to tell "lost" from "cannot reach"). */
  everOpen: boolean;
}

export interface ConnectionOptions {
  id: string;
  /** Asked before every attempt. Rejecting with MissingTokenError means "ask the user". */
  endpoint: () => Promise<Endpoint>;
  onState?: (state: LinkState) => void;
  /** Called on each (re)connection, after the subscription is in place. */
  onOpen?: () => void;
  onDomainChanged?: (event: DomainChangedEvent) => void;
  /** A storage pool or a network changed (Host details re-reads). */
  onHostChanged?: () => void;
  /** Each `stats.sample` tick: every figure of Domain-0 and the running domains. */
  onStatsSample?: (tick: EventDataOf<XendEvents, 'stats.sample'>) => void;
  /** A libvirt connection the engine keeps was added, removed, connected or lost. */
  onHostConnectionChanged?: (event: EventDataOf<XendEvents, 'connection.changed'>) => void;
  /** Delay before retry number `attempt` (1, 2, …). */
  backoffMs?: (attempt: number) => number;
}

/** 1 s, 2 s, 4 s, 8 s, then every 15 s. */
export function defaultBackoffMs(attempt: number): number {
  return Math.min(15_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

const TOPICS = ['domain.*', 'stats.sample', 'storage.changed', 'network.changed', 'connection.changed'] as const;

let clientFactory: ClientFactory = (endpoint) =>
  connectBrowserWebSocket(endpoint.url, endpoint.token, xendMethods, { events: xendEvents, streams: xendStreams });

/** Replaces how clients are made (tests pass a fake); returns the previous factory. */
export function setClientFactory(factory: ClientFactory): ClientFactory {
  const previous = clientFactory;
  clientFactory = factory;
  return previous;
}

export class EngineConnection {
  readonly id: string;
  readonly #opts: ConnectionOptions;
  readonly #backoff: (attempt: number) => number;
  #client: EngineClient | undefined;
  #state: LinkState = { status: 'stopped', everOpen: false };
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every start/stop: a late answer of an abandoned attempt is dropped. */
  #generation = 0;
  #stopped = true;

  constructor(opts: ConnectionOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.#backoff = opts.backoffMs ?? defaultBackoffMs;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Connects now (again, after unauthenticated or stop). */
  start(): void {
    this.#stopped = false;
    this.#failures = 0;
    this.#clearTimer();
    if (this.#client === undefined) void this.#attempt();
  }

  /** While waiting to retry: retry at once. */
  retryNow(): void {
    if (this.#state.status !== 'retrying') return;
    this.#clearTimer();
    void this.#attempt();
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    this.#clearTimer();
    const client = this.#client;
    this.#client = undefined;
    this.#setState({ status: 'stopped', everOpen: this.#state.everOpen });
    void client?.close();
  }

  /** The open client, or NotConnectedError. */
  client(): EngineClient {
    if (this.#client === undefined) throw new NotConnectedError();
    return this.#client;
  }

  async #attempt(): Promise<void> {
    const generation = ++this.#generation;
    const everOpen = this.#state.everOpen;
    this.#setState({ status: 'connecting', everOpen });
    let client: EngineClient | undefined;
    try {
      const endpoint = await this.#opts.endpoint();
      if (generation !== this.#generation) return;
      client = await clientFactory(endpoint);
      if (generation !== this.#generation) {
        void client.close();
        return;
      }
      const current = client;
      client.on('domain.changed', (event) => this.#opts.onDomainChanged?.(event));
      client.on('storage.changed', () => this.#opts.onHostChanged?.());
      client.on('network.changed', () => this.#opts.onHostChanged?.());
      client.on('stats.sample', (tick) => this.#opts.onStatsSample?.(tick));
      client.on('connection.changed', (event) => this.#opts.onHostConnectionChanged?.(event));
      client.onClose((reason) => this.#onClientClosed(current, reason));
      await client.subscribe([...TOPICS]);
      if (generation !== this.#generation) {
        void client.close();
        return;
      }
      this.#client = client;
      this.#failures = 0;
      this.#setState({ status: 'open', everOpen: true });
      this.#opts.onOpen?.();
    } catch (err) {
      if (client !== undefined && this.#client !== client) void client.close();
      if (generation !== this.#generation) return;
      if (err instanceof MissingTokenError) {
        this.#setState({ status: 'unauthenticated', everOpen });
        return;
      }
      if (err instanceof ConnectError && err.kind === 'unauthenticated') {
        this.#setState({ status: 'unauthenticated', everOpen, error: 'The engine refused the token.' });
        return;
      }
      this.#scheduleRetry(toEngineError(err).message);
    }
  }

  #onClientClosed(client: EngineClient, reason: CloseReason): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#stopped) return;
    const why = reason.kind === 'local' ? 'the connection was closed' : reason.error?.message ?? 'the engine closed the connection';
    this.#scheduleRetry(why);
  }

  #scheduleRetry(error: string): void {
    if (this.#stopped) return;
    this.#failures++;
    const retryInMs = this.#backoff(this.#failures);
    this.#setState({ status: 'retrying', error, retryInMs, everOpen: this.#state.everOpen });
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt();
    }, retryInMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #setState(state: LinkState): void {
    this.#state = state;
    this.#opts.onState?.(state);
  }
}

const registry = new Map<string, EngineConnection>();

/** Opens (and keeps up) a connection under `opts.id`, replacing one of the same id. */
export function connectionOpen(opts: ConnectionOptions): EngineConnection {
  registry.get(opts.id)?.stop();
  const connection = new EngineConnection(opts);
  registry.set(opts.id, connection);
  connection.start();
  return connection;
}

export function connectionClose({ conn }: { conn: string }): void {
  registry.get(conn)?.stop();
  registry.delete(conn);
}

export function connectionCloseAll(): void {
  for (const conn of [...registry.keys()]) connectionClose({ conn });
}

export function connectionRestart({ conn }: { conn: string }): void {
  registry.get(conn)?.start();
}

export function connectionRetryNow({ conn }: { conn: string }): void {
  registry.get(conn)?.retryNow();
}

/** The open client of a connection, or NotConnectedError. */
export function clientOf(conn: string): EngineClient {
  const connection = registry.get(conn);
  if (connection === undefined) throw new NotConnectedError();
  return connection.client();
}
