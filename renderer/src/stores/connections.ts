// Connections: the local engine (always first, "localhost (Dom0)") and the remote engines the user
// added. State is read-only outside; it changes through the mutators below, which the API layer's
// connection callbacks feed. Each connection's open/change events drive the domains store, its
// CPU samples the stats store.

import { defineStore } from 'pinia';
import { computed, readonly, ref } from 'vue';
import {
  connectionClose,
  connectionCloseAll,
  connectionOpen,
  connectionRestart,
  connectionRetryNow,
  dropLocalToken,
  hasLocalToken,
  localEndpoint,
  runtime as detectRuntime,
  setTypedToken,
  endpointInfo,
  libvirtAdd,
  libvirtList,
  libvirtRemove,
  libvirtConnect,
} from '../api/index.js';
import type { Capabilities, ConnectionRow, Endpoint, LinkState, LinkStatus, Runtime } from '../api/index.js';
import { parseRemoteUrl } from '../model/remote-url.js';
import { LOCAL_CONNECTION_ID } from '../model/route.js';
import { loadSavedConnections, saveConnections } from '../model/saved-connections.js';
import type { SavedConnection } from '../model/saved-connections.js';
import { useDomainsStore } from './domains.js';
import { useHostStore } from './host.js';
import { usePerfStore } from './perf.js';
import { useStatsStore } from './stats.js';

export const LOCAL_CONNECTION_NAME = 'localhost (Dom0)';

export interface ConnectionView {
  id: string;
  name: string;
  /** The engine's address, for remote connections; '' for the local one. */
  url: string;
  local: boolean;
  status: LinkStatus;
  error?: string;
  retryInMs?: number;
  everOpen: boolean;
  /** A Dom0 engine, or a libvirt host the local engine keeps (served through its adapter). */
  kind: 'dom0' | 'libvirt';
  /** libvirt: the engine's link to the host, and why it is down (naming the URI and what to do). */
  hostState?: ConnectionRow['state'];
  hostError?: string;
  /** libvirt: a host key waiting to be accepted. */
  fingerprint?: string;
  /** The methods the endpoint serves (connection.info); undefined until read, or from an older engine. */
  methods?: readonly string[];
}

/** The endpoint of a libvirt host's adapter: the local engine's, with the connection id. */
function adapterUrl(url: string, id: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}connection=${encodeURIComponent(id)}`;
}

export const useConnectionsStore = defineStore('connections', () => {
  const connections = ref<ConnectionView[]>([]);
  const runtime = ref<Runtime>('browser');
  const started = ref(false);
  /** Remotes with their tokens: kept out of the state that components read. */
  let saved: SavedConnection[] = [];
  let localLinked = false;

  const local = computed(() => connections.value.find((c) => c.local));
  /** Web mode without a usable token: the login screen. */
  const needsToken = computed(() => runtime.value === 'browser' && local.value?.status === 'unauthenticated');

  function byId(id: string): ConnectionView | undefined {
    return connections.value.find((c) => c.id === id);
  }

  function isOpen(id: string): boolean {
    return byId(id)?.status === 'open';
  }

  // Mutators.

  function addConnection(view: ConnectionView): void {
    const at = connections.value.findIndex((c) => c.id === view.id);
    if (at >= 0) connections.value.splice(at, 1, view);
    else if (view.local) connections.value.unshift(view);
    else connections.value.push(view);
  }

  function removeConnection(id: string): void {
    connections.value = connections.value.filter((c) => c.id !== id);
  }

  function setLinkState(id: string, state: LinkState): void {
    const view = byId(id);
    if (view === undefined) return;
    view.status = state.status;
    view.error = state.error;
    view.retryInMs = state.retryInMs;
    view.everOpen = state.everOpen;
  }

  function setCapabilities(id: string, capabilities: Capabilities | undefined): void {
    const view = byId(id);
    if (view !== undefined) view.methods = capabilities?.methods;
  }

  /** A libvirt connection the local engine keeps: added, changed or removed. */
  function setHostConnection(row: ConnectionRow & { removed?: boolean }): void {
    if (row.removed) {
      forget(row.id);
      return;
    }
    let view = byId(row.id);
    if (view === undefined) {
      addConnection({ id: row.id, name: row.label, url: row.uri, local: false, kind: 'libvirt', status: 'connecting', everOpen: false });
      view = byId(row.id)!;
      link(row.id, async () => {
        const ep = await localEndpoint();
        return { url: adapterUrl(ep.url, row.id), token: ep.token };
      });
    }
    view.hostState = row.state;
    view.hostError = row.state === 'connected' ? undefined : row.error;
    view.fingerprint = row.fingerprint;
  }

  function setRuntime(value: Runtime): void {
    runtime.value = value;
  }

  // Actions.

  function link(id: string, endpoint: () => Promise<Endpoint>): void {
    const domains = useDomainsStore();
    const stats = useStatsStore();
    connectionOpen({
      id,
      endpoint,
      onState: (state) => {
        setLinkState(id, state);
        if (id === LOCAL_CONNECTION_ID && state.status === 'unauthenticated' && state.error !== undefined) dropLocalToken();
      },
      onOpen: () => {
        // Samples resume after a gap (maybe from a restarted engine): start the lines again.
        stats.forgetConnection(id);
        usePerfStore().reopened(id);
        void domains.refresh(id);
        void endpointInfo({ conn: id }).then((c) => setCapabilities(id, c), () => undefined);
        // The local engine keeps the libvirt hosts: (re)read them whenever it is back.
        if (id === LOCAL_CONNECTION_ID) void libvirtList({ conn: id }).then((rows) => rows.forEach(setHostConnection), () => undefined);
      },
      onHostConnectionChanged: (row) => {
        if (id === LOCAL_CONNECTION_ID) setHostConnection(row);
      },
      onDomainChanged: (event) => domains.domainChanged(id, event),
      onHostChanged: () => useHostStore().changed(id),
      // Both stores take the same tick in the same task: one re-render per tick, not one per store.
      onStatsSample: (tick) => {
        stats.addTick(id, tick);
        usePerfStore().addTick(id, tick);
      },
    });
  }

  function linkLocal(): void {
    localLinked = true;
    link(LOCAL_CONNECTION_ID, localEndpoint);
  }

  /** Connects to the local engine and to the saved remote ones. Idempotent. */
  function start(): void {
    if (started.value) return;
    started.value = true;
    setRuntime(detectRuntime());
    // Without a token the login screen shows at once, rather than after a failed attempt.
    const status: LinkStatus = hasLocalToken() ? 'connecting' : 'unauthenticated';
    addConnection({ id: LOCAL_CONNECTION_ID, name: LOCAL_CONNECTION_NAME, url: '', local: true, kind: 'dom0', status, everOpen: false });
    if (status === 'connecting') linkLocal();
    saved = loadSavedConnections();
    for (const remote of saved) {
      addConnection({ id: remote.id, name: remote.name, url: remote.url, local: false, kind: 'dom0', status: 'connecting', everOpen: false });
      link(remote.id, async () => ({ url: remote.url, token: remote.token }));
    }
  }

  /** Closes every connection (the page is going away, or a test ends). */
  function stop(): void {
    connectionCloseAll();
    started.value = false;
    localLinked = false;
  }

  /** Web mode: the token the user entered on the login screen. */
  function submitToken(token: string): void {
    setTypedToken(token.trim());
    setLinkState(LOCAL_CONNECTION_ID, { status: 'connecting', everOpen: local.value?.everOpen ?? false });
    if (localLinked) connectionRestart({ conn: LOCAL_CONNECTION_ID });
    else linkLocal();
  }

  /** Adds a remote engine and connects to it; throws an Error with a plain message if the input is wrong. */
  function addRemote(input: { name?: string; url: string; token?: string }): string {
    const parsed = parseRemoteUrl(input.url);
    if (!parsed.ok) throw new Error(parsed.error);
    const token = input.token?.trim() || parsed.token;
    if (!token) throw new Error('Enter the engine’s token (xend prints it, or it is in the web address after #token=).');
    if (saved.some((c) => c.url === parsed.url)) throw new Error(`${parsed.url} is already in the list.`);
    const name = input.name?.trim() || new URL(parsed.url.replace(/^ws/, 'http')).host;
    const id = `remote-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const remote: SavedConnection = { id, name, url: parsed.url, token };
    saved = [...saved, remote];
    saveConnections(saved);
    addConnection({ id, name, url: parsed.url, local: false, kind: 'dom0', status: 'connecting', everOpen: false });
    link(id, async () => ({ url: remote.url, token: remote.token }));
    return id;
  }

  /** Connects the local engine to a libvirt URI and keeps it. Rejects with the engine's message
   * (HostKeyError carries the fingerprint to accept); nothing is added then. */
  async function addLibvirt(input: { uri: string; acceptHostKey?: string }): Promise<string> {
    const row = await libvirtAdd({ conn: LOCAL_CONNECTION_ID, uri: input.uri.trim(), acceptHostKey: input.acceptHostKey });
    setHostConnection(row);
    return row.id;
  }

  /** Asks the local engine to connect a libvirt host again now (after starting its daemon, or accepting its key). */
  async function reconnectLibvirt(id: string, acceptHostKey?: string): Promise<void> {
    setHostConnection(await libvirtConnect({ conn: LOCAL_CONNECTION_ID, id, acceptHostKey }));
  }

  function forget(id: string): void {
    connectionClose({ conn: id });
    removeConnection(id);
    useDomainsStore().forgetConnection(id);
    useStatsStore().forgetConnection(id);
    usePerfStore().forgetConnection(id);
  }

  function removeRemote(id: string): void {
    if (id === LOCAL_CONNECTION_ID) return;
    if (byId(id)?.kind === 'libvirt') {
      void libvirtRemove({ conn: LOCAL_CONNECTION_ID, id }).then(() => forget(id), () => undefined);
      return;
    }
    connectionClose({ conn: id });
    saved = saved.filter((c) => c.id !== id);
    saveConnections(saved);
    removeConnection(id);
    useDomainsStore().forgetConnection(id);
    useStatsStore().forgetConnection(id);
    usePerfStore().forgetConnection(id);
  }

  function retryNow(id: string): void {
    connectionRetryNow({ conn: id });
  }

  return {
    connections: readonly(connections),
    runtime: readonly(runtime),
    local,
    needsToken,
    byId,
    isOpen,
    addConnection,
    removeConnection,
    setLinkState,
    start,
    stop,
    submitToken,
    addRemote,
    addLibvirt,
    reconnectLibvirt,
    removeRemote,
    retryNow,
  };
});
