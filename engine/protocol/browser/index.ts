// Public API for browser pages (the renderer): the runtime-neutral protocol plus the WebSocket
// client. Nothing reachable from here imports Node.

export * from '../common/index.js';
export { connectBrowserWebSocket, openBrowserStream } from './websocket.js';
export type { BrowserConnectOptions, BrowserStream, WebSocketConstructor } from './websocket.js';
