// What the user types into "Add connection": the engine's WebSocket URL (ws://host:port/engine),
// or the web-mode address xend printed (http://host:port/#token=…), which carries the token too.

export type RemoteUrl = { ok: true; url: string; token: string | undefined } | { ok: false; error: string };

export function parseRemoteUrl(input: string): RemoteUrl {
  const text = input.trim();
  if (text === '') return { ok: false, error: 'Enter the engine’s address, e.g. ws://host:8800/engine.' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: 'This is not a URL: use ws://host:port/engine or the http:// address xend printed.' };
  }
  let protocol: string;
  if (url.protocol === 'ws:' || url.protocol === 'http:') protocol = 'ws:';
  else if (url.protocol === 'wss:' || url.protocol === 'https:') protocol = 'wss:';
  else return { ok: false, error: `${url.protocol} is not supported: use ws://, wss://, http:// or https://.` };
  if (url.host === '') return { ok: false, error: 'The address has no host.' };
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  const token = fragment.get('token') || url.searchParams.get('token') || undefined;
  const path = url.pathname === '' || url.pathname === '/' ? '/engine' : url.pathname;
  return { ok: true, url: `${protocol}//${url.host}${path}`, token };
}
