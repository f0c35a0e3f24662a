// Errors of the libvirt client, one class per failure a caller (or a user) can act on:
//
//   LibvirtClientError            base
//   ├── LibvirtConnectError       no connection to the URI's daemon. `kind` says why (unsupported
//   │                             URI, unreachable host, host key unknown/changed, auth refused,
//   │                             daemon not running, permission denied, ...); the message names
//   │                             the URI and says what to do. `fingerprint` is set for host keys.
//   ├── LibvirtDisconnectedError  the connection ended while a call or stream was pending
//   ├── LibvirtRemoteError        libvirtd answered with a virError (code, domain, message): the
//   │                             call ran and failed. `code` is libvirt's VIR_ERR_* number.
//   └── LibvirtProtocolError      the peer sent something this client cannot decode (fatal)

export class LibvirtClientError extends Error {
  override name = 'LibvirtClientError';
}

export type LibvirtConnectFailure =
  | 'unsupported-uri'
  | 'invalid-uri'
  | 'unreachable'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth-failed'
  | 'passphrase-required'
  | 'daemon-not-running'
  | 'permission-denied'
  | 'remote-command-failed'
  | 'timeout'
  | 'other';

export class LibvirtConnectError extends LibvirtClientError {
  override name = 'LibvirtConnectError';
  constructor(
    readonly uri: string,
    readonly kind: LibvirtConnectFailure,
    message: string,
    /** For host-key failures: the key's SHA256 fingerprint as OpenSSH prints it. */
    readonly fingerprint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class LibvirtDisconnectedError extends LibvirtClientError {
  override name = 'LibvirtDisconnectedError';
}

export class LibvirtProtocolError extends LibvirtClientError {
  override name = 'LibvirtProtocolError';
}

/** libvirt's virErrorNumber values the client reacts to (virterror.h). */
export const VirErr = {
  NO_SUPPORT: 3,
  OPERATION_FAILED: 9,
  NO_DOMAIN: 42,
  NO_DOMAIN_SNAPSHOT: 72,
  OPERATION_INVALID: 55,
  OPERATION_DENIED: 56,
  AUTH_FAILED: 45,
  OPERATION_TIMEOUT: 68,
  ACCESS_DENIED: 88,
  AGENT_UNRESPONSIVE: 86,
  OPERATION_UNSUPPORTED: 84,
  ARGUMENT_UNSUPPORTED: 74,
} as const;

export class LibvirtRemoteError extends LibvirtClientError {
  override name = 'LibvirtRemoteError';
  constructor(
    /** VIR_ERR_* number. */
    readonly code: number,
    /** VIR_FROM_* number: which part of libvirt raised it. */
    readonly domain: number,
    message: string,
    /** The procedure that failed. */
    readonly procedure: string,
  ) {
    super(message);
  }
}
