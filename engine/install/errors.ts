// The ways creating a domain can be refused or fail, one code per thing the user can act on.
// Every refusal happens before anything is written; a failure after that removes what was made.

export type InstallErrorCode =
  /** The description itself is wrong (bad name, size, option combination): fix the command. */
  | 'InvalidInstall'
  /** A domain (running or defined) or a disk image already has that name. */
  | 'DomainExists'
  /** The pool's filesystem has less free space than the new disks need. */
  | 'InsufficientSpace'
  /** An ISO, image, kernel or initrd cannot be read. */
  | 'MediaUnreadable'
  /** The install tree at --location has no kernel/initrd we recognise, or fetching failed. */
  | 'InstallTreeError'
  /** A path outside the folders a client may browse. */
  | 'InvalidPath'
  /** qemu-img failed. */
  | 'ImageToolError';

export class InstallError extends Error {
  readonly code: InstallErrorCode;

  constructor(code: InstallErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}
