// Console relays: the public API of engine/consoles.
export { SerialHub } from './serial-hub.js';
export type { SerialViewer } from './serial-hub.js';
export { rotateSerialLog, SERIAL_LOG_ROTATION } from './rotate.js';
export type { RotateOptions } from './rotate.js';
export { openVncConnection, vncSocketPath } from './vnc.js';
export { ConsoleError } from './errors.js';
export type { ConsoleErrorCode } from './errors.js';
