// The Migrate dialog's fields checked as the engine will (xend-api-lifecycle.ts domain.migrate),
// so a mistake is shown at the field instead of as a protocol error.

export type Parsed<T> = T | { error: string };

/** `host`, `host:port` or `[v6]:port`. */
export function parseDestination(text: string): Parsed<{ host: string; port?: number }> {
  const s = text.trim();
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return { error: 'Give a host name or address, optionally :port.' };
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (m[2] === undefined) return { host };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return { error: 'The port is 1 to 65535.' };
  return { host, port };
}

/** An optional whole number in [min, max]; empty means the engine's default. */
export function parseOptionalInt(text: string, min: number, max: number): Parsed<{ value?: number }> {
  const s = text.trim();
  if (s === '') return { value: undefined };
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) return { error: `A whole number from ${min} to ${max}.` };
  return { value: Number(s) };
}
