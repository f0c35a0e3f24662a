// Main's whole IPC surface: one handler. The renderer learns where the engine serves and then talks
// to xend directly over WebSocket; nothing else goes through main.

import type { IpcMainInvokeEvent } from 'electron';
import { ENGINE_ENDPOINT_CHANNEL, type EngineEndpoint } from '../preload/api.js';
import type { SenderFrame } from './renderer-origin.js';

export interface IpcHandleTarget {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
}

export class UntrustedSenderError extends Error {
  override name = 'UntrustedSenderError';
}

export function registerEngineEndpointHandler(
  ipc: IpcHandleTarget,
  deps: { isTrustedSender: (frame: SenderFrame | null) => boolean; getEndpoint: () => Promise<EngineEndpoint> },
): void {
  ipc.handle(ENGINE_ENDPOINT_CHANNEL, async (event) => {
    if (!deps.isTrustedSender(event.senderFrame)) {
      throw new UntrustedSenderError(`${ENGINE_ENDPOINT_CHANNEL} refused: the caller is not the Dom0 window`);
    }
    const { url, token } = await deps.getEndpoint();
    // A fresh object with exactly these two fields crosses to the renderer.
    return { url, token };
  });
}
