// Where the local engine is, in both runtimes, by one code path:
// - Electron: the preload exposes `window.dom0 = { runtime: 'electron', getEngineEndpoint() }`,
//   asked again on every (re)connection because a restarted engine may listen elsewhere.
// - Browser (web mode): xend served this page; the engine is at ws(s)://<this host>/engine and the
//   token came in the URL fragment `#token=…`. It is taken out of the address bar at once (so it
//   does not linger in history or screenshots) and kept in sessionStorage so a reload still works.
//   No token at all: the user is asked for one (the login screen).

import type { Endpoint } from './types.js';

export const TOKEN_STORAGE_KEY = 'dom0.engineToken';

/** The preload's bridge (preload/index.ts), as the renderer relies on it. */
export interface Dom0Bridge {
  readonly runtime: 'electron';
  getEngineEndpoint(): Promise<Endpoint>;
  /** The native Open dialog (one file); undefined when cancelled. */
  pickFile?(opts: { title: string }): Promise<string | undefined>;
}

/** The few window features the browser path reads: a real window in the app, a stand-in in tests. */
export interface BrowserEnv {
  location: { protocol: string; host: string; pathname: string; search: string; hash: string };
  history: { replaceState(data: unknown, unused: string, url?: string): void };
  sessionStorage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
}

/** The local engine has no token to use (web mode opened without `#token=`, or it was refused). */
export class MissingTokenError extends Error {
  override name = 'MissingTokenError';

  constructor() {
    super('No token for the engine: open the address xend printed (it ends in #token=…), or enter the token.');
  }
}

/**
 * Reads `token=` from a URL fragment ("#token=abc", "#token=abc&x=1"). Returns the token and the
 * fragment without it ('' when nothing else was there). A route fragment ("#/domain/x") has none.
 */
export function tokenFromFragment(hash: string): { token: string | undefined; rest: string } {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (body === '' || body.startsWith('/')) return { token: undefined, rest: hash };
  const params = new URLSearchParams(body);
  const token = params.get('token') ?? undefined;
  if (token === undefined) return { token: undefined, rest: hash };
  params.delete('token');
  const left = params.toString();
  return { token: token === '' ? undefined : token, rest: left === '' ? '' : `#${left}` };
}

/** The engine's WebSocket on the host that served the page: wss on https. */
export function engineUrlFor(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/engine`;
}

/**
 * The browser's token: from the fragment (then removed from the address bar and remembered for
 * this tab), else the one remembered earlier in this tab, else undefined.
 */
export function takeBrowserToken(env: BrowserEnv): string | undefined {
  const { token, rest } = tokenFromFragment(env.location.hash);
  if (token !== undefined) {
    rememberBrowserToken(env, token);
    env.history.replaceState(null, '', `${env.location.pathname}${env.location.search}${rest}`);
    return token;
  }
  return env.sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
}

export function rememberBrowserToken(env: BrowserEnv, token: string): void {
  try {
    env.sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // Storage can be disabled; the token then lasts as long as the page.
  }
}

export function forgetBrowserToken(env: BrowserEnv): void {
  try {
    env.sessionStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Nothing was stored.
  }
}

function bridge(): Dom0Bridge | undefined {
  const candidate = (globalThis as { dom0?: Partial<Dom0Bridge> }).dom0;
  return candidate?.runtime === 'electron' ? (candidate as Dom0Bridge) : undefined;
}

export type Runtime = 'electron' | 'browser';

export function runtime(): Runtime {
  return bridge() === undefined ? 'browser' : 'electron';
}

/** The browser's own window as a BrowserEnv. */
export function windowEnv(): BrowserEnv {
  return window;
}

/** A token the user typed on the login screen (web mode). */
let typedToken: string | undefined;

/**
 * The local engine's endpoint, read anew for each connection attempt. Rejects with
 * MissingTokenError in a browser that has no token.
 */
export async function localEndpoint(): Promise<Endpoint> {
  const electron = bridge();
  if (electron !== undefined) {
    if (typeof electron.getEngineEndpoint !== 'function') {
      throw new Error('The desktop app did not say where the engine is (preload without getEngineEndpoint).');
    }
    const endpoint = await electron.getEngineEndpoint();
    if (typeof endpoint?.url !== 'string' || typeof endpoint.token !== 'string') {
      throw new Error('The desktop app gave an engine address without a URL or token.');
    }
    return endpoint;
  }
  const env = windowEnv();
  const token = typedToken ?? takeBrowserToken(env);
  if (token === undefined) throw new MissingTokenError();
  return { url: engineUrlFor(env.location), token };
}

/** Whether the local engine can be tried without asking the user for a token first. */
export function hasLocalToken(): boolean {
  if (bridge() !== undefined) return true;
  return (typedToken ?? takeBrowserToken(windowEnv())) !== undefined;
}

/** Uses a token the user entered (web mode), remembered for this tab. */
export function setTypedToken(token: string): void {
  typedToken = token;
  rememberBrowserToken(windowEnv(), token);
}

/** The local token was refused: forget it, so the next attempt (or a reload) asks the user again. */
export function dropLocalToken(): void {
  typedToken = undefined;
  if (runtime() === 'browser') forgetBrowserToken(windowEnv());
}

/** Reads the fragment's token right away at startup, so it leaves the address bar before anything else. */
export function captureFragmentToken(): void {
  if (runtime() === 'browser') takeBrowserToken(windowEnv());
}
