// Errors of CPU scheduling, one per situation a caller can act on (`code` travels as the protocol
// error code; the message is for people).
//
//   SchedError
//   ├── SchedUnavailable   this host gives the engine no cgroup cpu controller it may write
//   └── InvalidSchedParam  a weight, cap or cpu list outside what Xen accepts

export type SchedErrorCode = 'SchedUnavailable' | 'InvalidSchedParam';

export class SchedError extends Error {
  constructor(
    readonly code: SchedErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
