// A client of libvirt's RPC protocol over any byte stream (the daemon's unix socket, an SSH channel
// running virt-ssh-helper). Serials are assigned here; every pending call and stream fails with
// LibvirtDisconnectedError when the transport closes; events are decoded by the generated table.

import type { Duplex } from 'node:stream';
import { REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, procedures, type ProcedureName, type Procedures } from './generated/remote-protocol.js';
import { decodeNamed, encodeNamed } from './xdr.js';
import { encodePacket, MessageStatus, MessageType, PacketReader, type Packet } from './packet.js';
import { LibvirtDisconnectedError, LibvirtProtocolError, LibvirtRemoteError } from './errors.js';
import { LibvirtStream } from './stream.js';

/** libvirt's keepalive program: the daemon pings, we answer. */
const KEEPALIVE_PROGRAM = 0x6b656570;
const KEEPALIVE_PING = 1;
const KEEPALIVE_PONG = 2;

type Args<P extends ProcedureName> = Procedures[P]['args'];
type Ret<P extends ProcedureName> = Procedures[P]['ret'];
type Msg<P extends ProcedureName> = Procedures[P]['msg'];

interface Pending {
  procedure: string;
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
}

const byNumber = new Map<number, ProcedureName>(
  (Object.entries(procedures) as [ProcedureName, { num: number }][]).map(([name, p]) => [p.num, name]),
);

export interface Disposable {
  dispose(): void;
}

export class LibvirtClient {
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, LibvirtStream>();
  private readonly listeners = new Map<number, Set<(msg: unknown) => void>>();
  private readonly closeListeners = new Set<(err?: Error) => void>();
  private readonly reader = new PacketReader();
  private closedWith: Error | null = null;

  constructor(
    private readonly io: Duplex,
    /** Names the peer in errors (the URI, never a secret). */
    readonly target: string,
  ) {
    io.on('data', (chunk: Buffer) => {
      let packets: Packet[];
      try {
        packets = this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const p of packets) this.dispatch(p);
    });
    io.on('error', (err) => this.fail(err));
    io.on('close', () => this.fail(new LibvirtDisconnectedError(`the connection to ${target} closed`)));
    io.on('end', () => this.fail(new LibvirtDisconnectedError(`${target} closed the connection`)));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Calls a procedure and resolves with its decoded reply. */
  async call<P extends ProcedureName>(name: P, ...args: Args<P> extends void ? [] : [Args<P>]): Promise<Ret<P>> {
    const body = await this.send(name, args[0]);
    const info = procedures[name] as { ret?: string };
    return decodeNamed(info.ret, body) as Ret<P>;
  }

  /** Calls a procedure that opens a stream (e.g. DomainOpenConsole) and returns the stream. */
  async openStream<P extends ProcedureName>(name: P, args: Args<P>): Promise<LibvirtStream> {
    const info = procedures[name] as { num: number };
    const serial = this.serial;
    const stream = new LibvirtStream((status, data) => this.write(info.num, MessageType.STREAM, serial, status, data), () => this.streams.delete(serial));
    this.streams.set(serial, stream);
    try {
      await this.send(name, args);
    } catch (err) {
      this.streams.delete(serial);
      stream.destroy();
      throw err;
    }
    return stream;
  }

  /** Listens for an event procedure (e.g. DomainEventCallbackLifecycle). */
  onEvent<P extends ProcedureName>(name: P, listener: (msg: Msg<P>) => void): Disposable {
    const num = (procedures[name] as { num: number }).num;
    let set = this.listeners.get(num);
    if (!set) this.listeners.set(num, (set = new Set()));
    const l = listener as (msg: unknown) => void;
    set.add(l);
    return { dispose: () => set.delete(l) };
  }

  onClose(listener: (err?: Error) => void): Disposable {
    if (this.closedWith) {
      queueMicrotask(() => listener(this.closedWith ?? undefined));
      return { dispose: () => undefined };
    }
    this.closeListeners.add(listener);
    return { dispose: () => this.closeListeners.delete(listener) };
  }

  /** Closes the connection politely (ConnectClose) when it is up, then the transport. */
  async close(): Promise<void> {
    if (this.closedWith) return;
    try {
      await Promise.race([this.call('ConnectClose'), new Promise((r) => setTimeout(r, 1000).unref())]);
    } catch {
      // Closing anyway.
    }
    this.fail(new LibvirtDisconnectedError(`the connection to ${this.target} was closed`));
  }

  private send(name: ProcedureName, args: unknown): Promise<Buffer> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const info = procedures[name] as { num: number; args?: string };
    const serial = this.serial++;
    const body = encodeNamed(info.args, args);
    return new Promise((resolve, reject) => {
      this.pending.set(serial, { procedure: name, resolve, reject });
      this.write(info.num, MessageType.CALL, serial, MessageStatus.OK, body);
    });
  }

  private write(procedure: number, type: number, serial: number, status: number, body: Buffer, program = REMOTE_PROGRAM): void {
    if (this.closedWith) return;
    this.io.write(encodePacket({ program, version: REMOTE_PROTOCOL_VERSION, procedure, type, serial, status }, body));
  }

  private dispatch(p: Packet): void {
    const h = p.header;
    if (h.program === KEEPALIVE_PROGRAM) {
      if (h.procedure === KEEPALIVE_PING) this.write(KEEPALIVE_PONG, MessageType.MESSAGE, 0, MessageStatus.OK, Buffer.alloc(0), KEEPALIVE_PROGRAM);
      return;
    }
    if (h.program !== REMOTE_PROGRAM) return; // Another program (qemu/lxc): never asked for here.
    try {
      switch (h.type) {
        case MessageType.REPLY:
        case MessageType.REPLY_WITH_FDS:
          return this.reply(p);
        case MessageType.MESSAGE:
          return this.event(p);
        case MessageType.STREAM:
        case MessageType.STREAM_HOLE:
          return this.streamPacket(p);
        default:
          throw new LibvirtProtocolError(`unexpected message type ${h.type} from ${this.target}`);
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private reply(p: Packet): void {
    const pending = this.pending.get(p.header.serial);
    if (!pending) throw new LibvirtProtocolError(`${this.target} replied to serial ${p.header.serial}, which was never sent`);
    this.pending.delete(p.header.serial);
    if (p.header.status === MessageStatus.ERROR) pending.reject(this.remoteError(p.body, pending.procedure));
    else pending.resolve(p.body);
  }

  private event(p: Packet): void {
    const name = byNumber.get(p.header.procedure);
    const set = this.listeners.get(p.header.procedure);
    if (!name || !set?.size) return;
    const msg = decodeNamed((procedures[name] as { msg?: string }).msg, p.body);
    for (const l of set) l(msg);
  }

  private streamPacket(p: Packet): void {
    const stream = this.streams.get(p.header.serial);
    if (!stream) return; // Late data of a stream we already aborted.
    if (p.header.type === MessageType.STREAM_HOLE) return; // Sparse streams are never requested.
    if (p.header.status === MessageStatus.CONTINUE) stream.receive(p.body);
    else if (p.header.status === MessageStatus.OK) {
      this.streams.delete(p.header.serial);
      stream.receiveEnd();
    } else {
      this.streams.delete(p.header.serial);
      stream.destroy(this.remoteError(p.body, 'stream'));
    }
  }

  private remoteError(body: Buffer, procedure: string): Error {
    const e = decodeNamed('remote_error', body) as { code: number; domain: number; message: string | null };
    return new LibvirtRemoteError(e.code, e.domain, e.message ?? `libvirt error ${e.code}`, procedure);
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err instanceof LibvirtDisconnectedError ? err : new LibvirtDisconnectedError(`the connection to ${this.target} failed: ${err.message}`, { cause: err });
    for (const p of this.pending.values()) p.reject(this.closedWith);
    this.pending.clear();
    for (const s of this.streams.values()) s.destroy(this.closedWith);
    this.streams.clear();
    this.io.destroy();
    for (const l of this.closeListeners) l(this.closedWith);
    this.closeListeners.clear();
  }
}
