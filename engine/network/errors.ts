// Errors of network operations, one per situation a caller can act on.
//
//   NetworkError
//   ├── NoSuchNetwork     no network of that name
//   ├── NetworkExists     a network of that name (or on that bridge) is defined already
//   ├── InvalidName       a network or bridge name that is not a usable interface name
//   ├── NotPermitted      creating bridges or taps needs CAP_NET_ADMIN (root), which the engine lacks
//   └── IpFailed          `ip` refused; its own message follows

export type NetworkErrorCode = 'NoSuchNetwork' | 'NetworkExists' | 'InvalidName' | 'NotPermitted' | 'IpFailed';

export class NetworkError extends Error {
  constructor(
    readonly code: NetworkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
