// The libvirt room: a client of libvirt's own RPC protocol (generated from remote_protocol.x),
// its transports (local socket, SSH), and the adapter that serves Dom0's domain API from a
// libvirt host.

export { connectLibvirt, localSockets, remoteCommand, type LibvirtConnection, type LibvirtConnectOptions } from './connect.js';
export { LibvirtClient, type Disposable } from './client.js';
export { LibvirtStream } from './stream.js';
export { parseLibvirtUri, commonUris, type LibvirtUri } from './uri.js';
export { KnownHosts, fingerprintOf } from './known-hosts.js';
export { sshConnect, sshExec, sshOpenUnix, sshOpenTcp, type SshTarget, type SshOptions } from './ssh.js';
export * from './errors.js';
export type { ProcedureName, Procedures } from './generated/remote-protocol.js';
export { LibvirtAdapter, type AdapterSinks, type DomainChange } from './adapter.js';
export { LibvirtConnections, connectRpcError, labelOf, type LibvirtConnectionsOptions } from './connections.js';
