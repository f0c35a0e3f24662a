// Networks: the public API of engine/network (user-mode NAT, bridges with taps, isolated bridges).
export { Networks, NAT_NETWORK } from './networks.js';
export type { NetworkInfo, NetworksOptions, NetworkType } from './networks.js';
export { attachTap, bridgeExists, bridgePorts, checkBridgeName, createBridge, deleteBridge } from './ip.js';
export type { HostNet } from './ip.js';
export { NetworkError } from './errors.js';
export type { NetworkErrorCode } from './errors.js';
