// Console relays: the public API of engine/consoles.
export { SerialHub } from './serial-hub.js';
export type { SerialViewer } from './serial-hub.js';
