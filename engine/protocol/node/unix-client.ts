// Client side of the unix socket: what the CLIs (xm, xenstore-*) and other local engines use.

import { Buffer } from 'node:buffer';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ProtocolClient } from '../common/client.js';
import type { ClientOptions } from '../common/client.js';
import type { EmptyTable, EventTable, MethodTable, StreamTable } from '../common/define.js';
import { ConnectError, ProtocolError, RemoteError } from '../common/errors.js';
import type { ConnectFailure } from '../common/errors.js';
import { parseStreamAck } from '../common/messages.js';
import { HeldTransport } from '../common/transport.js';
import { LineReader } from './framing.js';
import { MAX_UNIX_PATH_BYTES } from './unix-server.js';
import { foreignSocketOwner } from '../../common/private-dir.js';

export interface UnixConnectOptions<E extends EventTable, S extends StreamTable>
  extends Omit<ClientOptions<E, S, Duplex>, 'connectStream' | 'target'> {
  /** Bound on connecting (and, for streams, on the server's answer): 10 s. */
  connectTimeoutMs?: number;
  /** Largest message accepted from the server (64 MiB). */
  maxMessageBytes?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_CLIENT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Connects to the engine's unix socket. Rejects with ConnectError saying what is wrong. */
export async function connectUnix<
  M extends MethodTable,
  E extends EventTable = EmptyTable,
  S extends StreamTable = EmptyTable,
>(path: string, methods: M, opts: UnixConnectOptions<E, S> = {}): Promise<ProtocolClient<M, E, S, Duplex>> {
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const socket = await connectSocket(path, timeoutMs);
  const transport = new UnixClientTransport(socket, opts.maxMessageBytes ?? DEFAULT_CLIENT_MAX_MESSAGE_BYTES);
  return new ProtocolClient<M, E, S, Duplex>(transport, methods, {
    ...opts,
    target: path,
    connectStream: (kind, params) => openUnixStream(path, kind, params, { timeoutMs }),
  });
}

/**
 * Opens a stream channel on a new connection: sends {stream, params}, waits for {ok: true}, and
 * resolves with the socket itself as the byte pipe (ending it ends the stream). Rejects with
 * RemoteError when the server refuses, ConnectError when it cannot be reached.
 */
export async function openUnixStream(
  path: string,
  kind: string,
  params: unknown,
  opts: { timeoutMs?: number } = {},
): Promise<Duplex> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const socket = await connectSocket(path, timeoutMs);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new ConnectError(path, 'timeout', `the engine at ${path} did not open stream '${kind}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let answer: string | undefined;
    const reader = new LineReader(
      64 * 1024,
      (line) => {
        answer = line;
        return 'stop';
      },
      () => fail(new ProtocolError('too-large', `the engine at ${path} sent an over-long stream answer`)),
    );
    const onAnswer = (line: string) => {
      const ack = parseStreamAck(line);
      if (ack === undefined) {
        return fail(new ProtocolError('invalid-message', `the engine at ${path} answered the stream open with something unexpected`, line));
      }
      if (!ack.ok) return fail(new RemoteError(ack.error.code, ack.error.message, ack.error.data, `stream ${kind}`));
      cleanup();
      // Bytes that came with the answer are the stream's first.
      const rest = reader.takeRest();
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    // Read with 'readable', not 'data': once that listener is gone the socket is back to its
    // initial mode, so the caller's on('data') or pipe() starts the flow and no byte after the
    // answer is lost or stuck behind an explicit pause().
    const onReadable = () => {
      let chunk: Buffer | null;
      while (!settled && answer === undefined && (chunk = socket.read() as Buffer | null) !== null) reader.push(chunk);
      if (!settled && answer !== undefined) onAnswer(answer);
    };
    const onClose = () => fail(new ConnectError(path, 'closed', `the engine at ${path} closed the stream connection before answering`));
    const onError = () => undefined;
    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    socket.on('readable', onReadable);
    socket.once('close', onClose);
    socket.on('error', onError);
    socket.write(`${JSON.stringify(params === undefined ? { stream: kind } : { stream: kind, params })}\n`);
  });
}

function connectSocket(path: string, timeoutMs: number): Promise<net.Socket> {
  if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
    return Promise.reject(
      new ConnectError(path, 'path-too-long', `the engine socket path ${path} is too long for a unix socket: use a shorter runtime directory`),
    );
  }
  const foreign = foreignSocketOwner(path);
  if (foreign) return Promise.reject(new ConnectError(path, 'denied', foreign));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectError(path, 'timeout', `connecting to the engine at ${path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectErrorFor(path, error));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

function connectErrorFor(path: string, error: NodeJS.ErrnoException): ConnectError {
  const [kind, message]: [ConnectFailure, string] =
    error.code === 'ENOENT'
      ? ['missing', `no engine is running: ${path} does not exist (start xend, or check DOM0_HOME)`]
      : error.code === 'ECONNREFUSED'
        ? ['refused', `no engine is listening on ${path}: it is left over from an engine that exited; start xend again`]
        : error.code === 'EACCES'
          ? ['denied', `permission denied on ${path}: the engine belongs to another user`]
          : ['other', `cannot connect to the engine at ${path}: ${error.message}`];
  return new ConnectError(path, kind, message, { cause: error });
}

class UnixClientTransport extends HeldTransport {
  readonly #socket: net.Socket;

  constructor(socket: net.Socket, maxMessageBytes: number) {
    super();
    this.#socket = socket;
    const reader = new LineReader(
      maxMessageBytes,
      (line) => {
        this.deliver(line);
        return 'more';
      },
      (bytes) => {
        this.finish(new ProtocolError('too-large', `the engine sent a message of ${bytes}+ bytes, over this client's limit`));
        socket.destroy();
      },
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    let socketError: Error | undefined;
    socket.on('error', (error) => (socketError = error));
    socket.once('close', () => this.finish(socketError));
  }

  send(text: string): void {
    if (!this.finished && this.#socket.writable) this.#socket.write(`${text}\n`);
  }

  close(): void {
    this.#socket.destroy();
  }
}
