// Errors as the renderer shows them. Every API function rejects with an EngineError whose message
// is plain words a user can act on (the engine's RemoteError message as it is), and whose code is
// the engine's named error ('NoSuchDomain', 'InvalidState'...) or one of the client-side kinds
// below, so components never need the protocol's classes.

import {
  CallTimeoutError,
  ConnectError,
  DisconnectedError,
  ProtocolError,
  RemoteError,
} from '../../../engine/protocol/browser/index.js';

export type ClientErrorCode = 'NotConnected' | 'Disconnected' | 'Timeout' | 'Connect' | 'Protocol' | 'Unknown';

export class EngineError extends Error {
  override name = 'EngineError';
  /** The engine's error code, or a ClientErrorCode. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A call made while the connection is down (it is reconnecting, or was never up). */
export class NotConnectedError extends EngineError {
  override name = 'NotConnectedError';

  constructor(what = 'the engine') {
    super('NotConnected', `Not connected to ${what}; wait until the connection is back and try again.`);
  }
}

export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (err instanceof RemoteError) return new EngineError(err.code, err.message, { cause: err });
  if (err instanceof DisconnectedError) {
    return new EngineError(
      'Disconnected',
      'The connection to the engine was lost before it answered; check the domain once the connection is back.',
      { cause: err },
    );
  }
  if (err instanceof CallTimeoutError) return new EngineError('Timeout', err.message, { cause: err });
  if (err instanceof ConnectError) return new EngineError('Connect', err.message, { cause: err });
  if (err instanceof ProtocolError) return new EngineError('Protocol', err.message, { cause: err });
  if (err instanceof Error) return new EngineError('Unknown', err.message, { cause: err });
  return new EngineError('Unknown', String(err));
}
