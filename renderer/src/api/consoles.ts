// Consoles: byte streams to a domain's serial port and VNC server, each on its own WebSocket.
// They reject with EngineError like every API function (NoSuchDomain, NoDisplay, NotConnected...).
// The stream is handed over as is: the caller reads with onData, writes with send, and closes it.

import type { BrowserStream } from '../../../engine/protocol/browser/index.js';
import { clientOf } from './connection.js';
import { toEngineError } from './errors.js';

/** An open console stream (binary both ways). */
export type ConsoleStream = BrowserStream;

/** The serial console; `replayBytes` of recent output come first. */
export async function consoleSerialOpen({
  conn,
  name,
  replayBytes = 0,
}: {
  conn: string;
  name: string;
  replayBytes?: number;
}): Promise<ConsoleStream> {
  try {
    return await clientOf(conn).openStream('console.serial', { ref: name, replayBytes });
  } catch (err) {
    throw toEngineError(err);
  }
}

/** The graphical console as raw RFB (for noVNC: hand it `stream.socket`). NoDisplay without a vfb. */
export async function consoleVncOpen({ conn, name }: { conn: string; name: string }): Promise<ConsoleStream> {
  try {
    return await clientOf(conn).openStream('console.vnc', { ref: name });
  } catch (err) {
    throw toEngineError(err);
  }
}
