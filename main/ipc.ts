// Main's whole IPC surface: two handlers. The renderer learns where the engine serves and then talks
// to xend directly over WebSocket; the only other thing main does for it is the native Open dialog.

import type { IpcMainInvokeEvent } from 'electron';
import { ENGINE_ENDPOINT_CHANNEL, PICK_FILE_CHANNEL, type EngineEndpoint } from '../preload/api.js';
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

/** The native Open dialog for the wizard's file pickers: only a title string comes from the page. */
export function registerPickFileHandler(
  ipc: IpcHandleTarget,
  deps: { isTrustedSender: (frame: SenderFrame | null) => boolean; showOpenDialog: (event: IpcMainInvokeEvent, title: string) => Promise<string | undefined> },
): void {
  ipc.handle(PICK_FILE_CHANNEL, async (event, arg) => {
    if (!deps.isTrustedSender(event.senderFrame)) {
      throw new UntrustedSenderError(`${PICK_FILE_CHANNEL} refused: the caller is not the Dom0 window`);
    }
    const raw = (arg as { title?: unknown } | undefined)?.title;
    const title = typeof raw === 'string' ? raw.slice(0, 200) : 'Choose a file';
    const path = await deps.showOpenDialog(event, title);
    return typeof path === 'string' ? path : undefined;
  });
}
