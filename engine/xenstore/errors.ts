// Errors of the registry and of talking to it. Like Xen's xenstored, the registry answers with an
// errno name and nothing else: callers branch on `errno`, people read the message.
//
//   XenstoreError              the registry refused the operation (ENOENT, EACCES, EAGAIN, ...)
//   XenstoreConnectError       no connection to xenstored: not running, socket not ours, ...
//   XenstoreDisconnectedError  the connection ended (daemon exit, protocol violation, close())
//                              while a request was pending or when a new one was made
//   XenstoredRunningError      a daemon start found another live xenstored owning the state dir

export const ERRNOS = ['ENOENT', 'EACCES', 'EAGAIN', 'EINVAL', 'E2BIG', 'EEXIST', 'ENOSPC', 'EPERM', 'EBUSY', 'EIO'] as const;
export type Errno = (typeof ERRNOS)[number];

/** What strerror(3) says for each errno, for messages in Xen's CLI style (`err(1, ...)`). */
export const ERRNO_TEXT: Readonly<Record<Errno, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EAGAIN: 'Resource temporarily unavailable',
  EINVAL: 'Invalid argument',
  E2BIG: 'Argument list too long',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EPERM: 'Operation not permitted',
  EBUSY: 'Device or resource busy',
  EIO: 'Input/output error',
};

export class XenstoreError extends Error {
  override name = 'XenstoreError';
  constructor(
    readonly errno: Errno,
    message?: string,
  ) {
    super(message ?? `${errno} (${ERRNO_TEXT[errno]})`);
  }
}

export type XenstoreConnectFailure =
  /** No socket, or a stale socket nobody listens on: xenstored is not running. */
  | 'not-running'
  /** The socket belongs to another user (mode 0600). */
  | 'denied'
  /** The path does not fit in a unix socket address. */
  | 'path-too-long'
  | 'timeout'
  | 'other';

export class XenstoreConnectError extends Error {
  override name = 'XenstoreConnectError';
  constructor(
    readonly socketPath: string,
    readonly kind: XenstoreConnectFailure,
    message: string,
  ) {
    super(message);
  }
}

export class XenstoreDisconnectedError extends Error {
  override name = 'XenstoreDisconnectedError';
}

export class XenstoredRunningError extends Error {
  override name = 'XenstoredRunningError';
  constructor(
    readonly pid: number,
    message: string,
  ) {
    super(message);
  }
}
