// MAC addresses for vifs without mac=: Xen's OUI 00:16:3e plus three random bytes, unique
// among the addresses this engine already uses.

import { randomBytes } from 'node:crypto';

export function randomXenMac(inUse: ReadonlySet<string>): string {
  for (;;) {
    const bytes = randomBytes(3);
    // The first random byte is kept below 0x80, as Xen's tools do, so the range never overlaps the one they use for other purposes.
    const tail = [bytes[0]! & 0x7f, bytes[1]!, bytes[2]!].map((b) => b.toString(16).padStart(2, '0'));
    const mac = `00:16:3e:${tail.join(':')}`;
    if (!inUse.has(mac)) return mac;
  }
}
