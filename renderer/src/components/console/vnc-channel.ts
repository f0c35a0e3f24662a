// Makes an engine stream (raw RFB bytes both ways) look like the WebSocket-like "raw channel"
// noVNC's `new RFB(target, channel)` accepts. The stream is already open when this is made, but
// noVNC assigns its handlers only inside the RFB constructor: the channel reports CONNECTING until
// the next microtask, then turns OPEN and fires onopen (reporting OPEN at once would make RFB start
// the handshake itself, and onopen afterwards would start it twice). Frames are taken from the
// stream only from then on; the stream holds those that came earlier.
import type { BrowserStream } from '../../../../engine/protocol/browser/index.js';

export type VncStream = Pick<BrowserStream, 'send' | 'onData' | 'onClose' | 'close'>;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

export interface ChannelCloseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
}

export class VncChannel {
  binaryType: BinaryType = 'arraybuffer';
  readonly protocol = '';
  readyState: number = CONNECTING;
  onopen: ((event: Event | object) => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: ChannelCloseEvent) => void) | null = null;
  onerror: ((event: Event | object) => void) | null = null;

  readonly #stream: VncStream;
  #dataSub: { dispose(): void } | undefined;
  readonly #closeSub: { dispose(): void };

  constructor(stream: VncStream) {
    this.#stream = stream;
    this.#closeSub = stream.onClose(({ code, reason }) => this.#closed(code, reason));
    queueMicrotask(() => this.#open());
  }

  send(data: ArrayBuffer | ArrayBufferView): void {
    if (this.readyState !== OPEN) return;
    if (data instanceof ArrayBuffer) this.#stream.send(data);
    else this.#stream.send(new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength));
  }

  close(): void {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.#stream.close();
  }

  #open(): void {
    if (this.readyState !== CONNECTING) return;
    this.readyState = OPEN;
    this.onopen?.({ type: 'open' });
    this.#dataSub = this.#stream.onData((bytes) => {
      if (this.readyState !== OPEN) return;
      this.onmessage?.({ data: toArrayBuffer(bytes) });
    });
  }

  #closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#dataSub?.dispose();
    this.#closeSub.dispose();
    this.onclose?.({ code, reason, wasClean: code === 1000 });
  }
}

/** A stand-alone ArrayBuffer holding exactly these bytes (noVNC reads `new Uint8Array(data)`). */
function toArrayBuffer(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

export function vncChannel(stream: VncStream): VncChannel {
  return new VncChannel(stream);
}
