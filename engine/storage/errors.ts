// Errors of storage operations, one per situation a caller can act on. `code` travels as the
// protocol error code; the message says what happened and what to do.
//
//   StorageError
//   ├── NoSuchPool        no pool of that name
//   ├── PoolExists        a pool of that name (or at that path) is defined already
//   ├── NoSuchVolume      no volume of that name in the pool
//   ├── VolumeExists      a volume of that name is in the pool already
//   ├── VolumeInUse       a domain's config names the volume (delete, shrink)
//   ├── InvalidName       a pool or volume name that is not a plain file name
//   ├── InvalidPath       a path outside the pools (remote clients), or not usable
//   ├── InvalidSize       a size that is not a positive number of bytes, or a shrink without force
//   ├── QemuImgFailed     qemu-img refused; its own message follows
//   ├── PortalUnreachable no iSCSI target answers at the pool's portal
//   ├── UnknownTarget     the portal offers no target of that IQN
//   ├── LoginRefused      the target refused this initiator's login (ACL or CHAP)
//   └── NotSupported      an operation a pool of this type cannot do (e.g. create a LUN)

export type StorageErrorCode =
  | 'NoSuchPool'
  | 'PoolExists'
  | 'NoSuchVolume'
  | 'VolumeExists'
  | 'VolumeInUse'
  | 'InvalidName'
  | 'InvalidPath'
  | 'InvalidSize'
  | 'QemuImgFailed'
  | 'PortalUnreachable'
  | 'UnknownTarget'
  | 'LoginRefused'
  | 'NotSupported';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
