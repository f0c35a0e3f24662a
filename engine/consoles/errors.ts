// Refusals of console streams. `code` travels as the protocol error code.

export type ConsoleErrorCode = 'NoDisplay';

export class ConsoleError extends Error {
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
