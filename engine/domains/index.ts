// Domain lifecycle: the public API of engine/domains.
export { DomainManager, RESTART_GUARD_MS } from './manager.js';
export type { CreateOptions, DomainEvent, DomainInfo, DomainManagerOptions, LiveDomain, MonitorTarget, ShutdownOptions, ShutdownReason, VcpuInfo } from './manager.js';
export { DomainError } from './errors.js';
export type { DomainErrorCode } from './errors.js';
export { ALLOWED_IN, isAllowed, stateLetters } from './operations.js';
export type { DomainOperation, DomainStatus } from './operations.js';
export { randomXenMac } from './mac.js';
export { DomainDefinitions } from './definitions.js';
export type { DomainDefinition } from './definitions.js';
export { blockAttach, blockDetach, diskFromXm, liveResize, mediaChange, nicAttach, nicDetach } from './hotplug.js';
export type { HotplugOptions } from './hotplug.js';
