// How the renderer finds its engine in a browser: the token from the URL fragment (then out of the
// address bar, kept for reloads), the WebSocket URL, the remote addresses "Add connection" takes,
// and the page's routes.

import { describe, expect, it } from 'vitest';
import {
  engineUrlFor,
  takeBrowserToken,
  tokenFromFragment,
  TOKEN_STORAGE_KEY,
} from '../../renderer/src/api/endpoint.js';
import type { BrowserEnv } from '../../renderer/src/api/endpoint.js';
import { parseRemoteUrl } from '../../renderer/src/model/remote-url.js';
import { formatRoute, parseRoute } from '../../renderer/src/model/route.js';
import type { Route } from '../../renderer/src/model/route.js';

/** A page at `href`: its address bar, history and this tab's session storage. */
function page(href: string, session = new Map<string, string>()) {
  const url = new URL(href);
  const replaced: string[] = [];
  const env: BrowserEnv = {
    location: { protocol: url.protocol, host: url.host, pathname: url.pathname, search: url.search, hash: url.hash },
    history: {
      replaceState: (_data, _unused, next) => {
        replaced.push(String(next));
        const to = new URL(String(next), url);
        env.location.hash = to.hash;
      },
    },
    sessionStorage: {
      getItem: (k) => session.get(k) ?? null,
      setItem: (k, v) => void session.set(k, v),
      removeItem: (k) => void session.delete(k),
    },
  };
  return { env, replaced, session };
}

describe('token in the URL fragment', () => {
  it.each([
    ['#token=abc123', 'abc123', ''],
    ['#token=abc&view=x', 'abc', '#view=x'],
    ['#/domain/vm1', undefined, '#/domain/vm1'],
    ['', undefined, ''],
    ['#token=', undefined, ''],
    ['#other=1', undefined, '#other=1'],
  ])('%j gives token %j and leaves %j', (hash, token, rest) => {
    expect(tokenFromFragment(hash)).toEqual({ token, rest });
  });

  it('takes the token out of the address bar and keeps it for this tab', () => {
    const { env, replaced, session } = page('http://127.0.0.1:8800/?lang=en#token=s3cret-token-value');
    expect(takeBrowserToken(env)).toBe('s3cret-token-value');
    expect(replaced).toEqual(['/?lang=en']);
    expect(env.location.hash).toBe('');
    expect(session.get(TOKEN_STORAGE_KEY)).toBe('s3cret-token-value');
  });

  it('finds the token again after a reload, when the fragment is gone', () => {
    const session = new Map<string, string>();
    takeBrowserToken(page('http://127.0.0.1:8800/#token=first', session).env);
    const reloaded = page('http://127.0.0.1:8800/', session);
    expect(takeBrowserToken(reloaded.env)).toBe('first');
    expect(reloaded.replaced).toEqual([]);
  });

  it('prefers a new token in the fragment over the remembered one', () => {
    const session = new Map([[TOKEN_STORAGE_KEY, 'old']]);
    expect(takeBrowserToken(page('http://h:1/#token=new', session).env)).toBe('new');
    expect(session.get(TOKEN_STORAGE_KEY)).toBe('new');
  });

  it('has no token when opened without one (the login screen asks)', () => {
    expect(takeBrowserToken(page('http://127.0.0.1:8800/').env)).toBeUndefined();
  });

  it('connects to /engine on the host that served the page, wss under https', () => {
    expect(engineUrlFor({ protocol: 'http:', host: '127.0.0.1:8800' })).toBe('ws://127.0.0.1:8800/engine');
    expect(engineUrlFor({ protocol: 'https:', host: 'dom0.example:443' })).toBe('wss://dom0.example:443/engine');
  });
});

describe('remote engine addresses', () => {
  it('takes a WebSocket URL as it is', () => {
    expect(parseRemoteUrl('ws://10.0.0.2:8800/engine')).toEqual({ ok: true, url: 'ws://10.0.0.2:8800/engine', token: undefined });
  });

  it('turns the web address xend printed into the engine URL and its token', () => {
    expect(parseRemoteUrl(' http://10.0.0.2:8800/#token=abcdef ')).toEqual({ ok: true, url: 'ws://10.0.0.2:8800/engine', token: 'abcdef' });
    expect(parseRemoteUrl('https://host.example/')).toMatchObject({ ok: true, url: 'wss://host.example/engine' });
  });

  it.each(['', 'not a url', 'ftp://host/engine'])('refuses %j with a message', (input) => {
    const parsed = parseRemoteUrl(input);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).not.toBe('');
  });
});

describe('routes', () => {
  it.each<[string, Route]>([
    ['', { view: 'manager' }],
    ['#/', { view: 'manager' }],
    ['#/domain/vm1', { view: 'domain', conn: 'local', name: 'vm1', tab: 'overview' }],
    ['#/domain/vm1/details', { view: 'domain', conn: 'local', name: 'vm1', tab: 'details' }],
    ['#/domain/my%20vm/config', { view: 'domain', conn: 'local', name: 'my vm', tab: 'config' }],
    ['#/connection/remote-1/domain/web', { view: 'domain', conn: 'remote-1', name: 'web', tab: 'overview' }],
    ['#/domain/vm1/nonsense', { view: 'manager' }],
    ['#/somewhere', { view: 'manager' }],
    ['#/domain/%E0%A4%A', { view: 'manager' }],
  ])('%j is %j', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it('round-trips every view through the fragment', () => {
    const routes: Route[] = [
      { view: 'manager' },
      { view: 'domain', conn: 'local', name: 'vm/with/slashes', tab: 'details' },
      { view: 'domain', conn: 'remote-x', name: 'web 1', tab: 'overview' },
    ];
    for (const route of routes) expect(parseRoute(formatRoute(route))).toEqual(route);
    expect(formatRoute({ view: 'domain', conn: 'local', name: 'vm1', tab: 'overview' })).toBe('#/domain/vm1');
  });
});
