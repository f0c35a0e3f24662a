// The graphical console: QEMU's VNC server on <runtimeDir>/vnc.sock serves several viewers at
// once, so each viewer gets its own connection to it and the engine only relays bytes (no RFB
// parsing, no fan-out). The socket is the stream's pipe, so backpressure works end to end.

import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ConsoleError } from './errors.js';

export function vncSocketPath(runtimeDir: string): string {
  return join(runtimeDir, 'vnc.sock');
}

/** A new client connection to the domain's VNC server; NoDisplay when it has none. */
export function openVncConnection(domain: { name: string; runtimeDir: string }): Promise<net.Socket> {
  const path = vncSocketPath(domain.runtimeDir);
  if (!existsSync(path)) {
    return Promise.reject(new ConsoleError('NoDisplay', `domain ${domain.name} has no graphical console (add vfb = ['vnc=1'])`));
  }
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    const onError = (err: Error) => reject(new Error(`cannot reach the VNC server of domain ${domain.name}: ${err.message}`));
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
