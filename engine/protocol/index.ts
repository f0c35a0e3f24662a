// Public API of the engine protocol for Node code (xend, the CLIs, other engines): everything in
// common/ plus the servers and Node transports. Browser code imports browser/index.js instead.

export * from './common/index.js';
export * from './node/index.js';
