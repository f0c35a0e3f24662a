// Who may talk to the engine over the network: token comparison, loopback checks and the Origin
// allow-list. Kept apart from the sockets so each rule is tested on its own.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Compares tokens in constant time. Hashing first makes the lengths equal, so the time does not
 * reveal the expected token's length either. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True for an address (or 'localhost') that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith('127.');
  if (family === 6) {
    const lower = bare.toLowerCase();
    return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(lower);
  }
  return false;
}

/** The host part of a Host header ('127.0.0.1:8080', '[::1]:8080', 'localhost'). */
export function hostOfHostHeader(header: string): string {
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end === -1 ? header : header.slice(0, end + 1);
  }
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it is. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Origins are compared as browsers send them: scheme://host[:port], lower case, no slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** The pages served by this listener itself (web mode), on any loopback name. */
export function loopbackOrigins(port: number): string[] {
  const hosts = ['127.0.0.1', 'localhost', '[::1]'];
  return hosts.flatMap((host) => [`http://${host}:${port}`, `https://${host}:${port}`]);
}
