// Why a listener could not start. One kind per situation the caller acts on differently: 'in-use'
// means another engine already serves this state directory (connect to it instead, as the app
// does); the others are configuration to fix.

export type ListenFailure =
  /** A live server answers on the socket path. */
  | 'in-use'
  /** The path exists and is not a socket: refusing to delete someone's file. */
  | 'not-a-socket'
  /** The path does not fit in a unix socket address. */
  | 'path-too-long'
  /** No permission to create, replace or probe the socket. */
  | 'denied'
  /** A WebSocket listener asked to bind an address other hosts can reach, without allowRemote. */
  | 'not-loopback'
  /** The TCP port is taken. */
  | 'address-in-use'
  | 'other';

export class ListenError extends Error {
  override name = 'ListenError';
  readonly kind: ListenFailure;
  /** The socket path or host:port. */
  readonly address: string;

  constructor(address: string, kind: ListenFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.address = address;
  }
}
