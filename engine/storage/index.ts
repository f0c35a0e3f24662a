// Storage: the public API of engine/storage (pools of image volumes, qemu-img through argv).
export { StoragePools, parseSize } from './pools.js';
export type { PoolInfo, StorageOptions, VolumeFormat, VolumeInfo } from './pools.js';
export { StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
