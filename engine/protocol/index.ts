// Public API of the engine protocol for Node code (xend, the CLIs, other engines): everything in
// common/ plus the servers and Node transports. Browser code imports browser/index.js instead.
//
// Wiring, in short (the tables live in common/ so the renderer can import them too):
//
//   const methods = defineMethods({ 'domain.list': { params: z.void(), result: ..., doc: '...' } });
//   const events = defineEvents({ 'domain.state': { data: z.object({...}), doc: '...' } });
//   const streams = defineStreams({ 'console.serial': { params: z.object({ domain: z.string() }), doc: '...' } });
//   const server = new ProtocolServer({ methods, handlers, events, streams, streamOpeners });
//   await listenUnix(socketPath, server);                       // CLIs: 0600, no token
//   await listenWebSocket(server, { token, httpServer });       // GUI/web: loopback, token
//   server.broadcast('domain.state', { ... });                  // to subscribed connections
//
//   const xend = await connectUnix(socketPath, methods, { events, streams });
//   await xend.call('domain.list');

export * from './common/index.js';
export * from './node/index.js';
