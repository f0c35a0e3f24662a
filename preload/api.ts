// The contract between the sandboxed preload, the main process and the renderer: its channels and
// the shape of the bridge object. No runtime imports, so the renderer may reference it as a type
// (`declare global { interface Window { dom0?: Dom0Bridge } }`) and main may share the channel name.

/** The only IPC channel the renderer can reach; main answers it with ipcMain.handle. */
export const ENGINE_ENDPOINT_CHANNEL = 'dom0:get-engine-endpoint';

/** The native Open dialog (the New VM wizard's file pickers): a title in, one chosen path (or none) out. */
export const PICK_FILE_CHANNEL = 'dom0:pick-file';

/** Where the renderer opens the engine protocol: xend's WebSocket and the token it checks. */
export interface EngineEndpoint {
  /** `ws://127.0.0.1:<port>/engine`; the port changes when xend is restarted. */
  readonly url: string;
  /** Sent as the first message (engine/protocol/browser/websocket.ts), never in the URL. */
  readonly token: string;
}

/** `window.dom0` in the desktop app; absent in web mode (the page reads the token from its URL). */
export interface Dom0Bridge {
  readonly runtime: 'electron';
  /**
   * Resolves once xend serves. Call it again after the engine connection drops: if xend crashed,
   * main restarts it (a bounded number of times) and this resolves with the new endpoint. Rejects
   * with the reason when the engine cannot be started.
   */
  getEngineEndpoint(): Promise<EngineEndpoint>;
  /** The native Open dialog for one file; resolves with its path, or undefined when cancelled. */
  pickFile(opts: { title: string }): Promise<string | undefined>;
}
