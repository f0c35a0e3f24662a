// The renderer's only door to the engine. Stores import from here; components never do.

export * from './connection.js';
export * from './consoles.js';
export * from './domains.js';
export * from './endpoint.js';
export * from './install.js';
export * from './errors.js';
export * from './stats.js';
export * from './lifecycle.js';
export type * from './types.js';
export * from './host.js';
export * from './hosts.js';
