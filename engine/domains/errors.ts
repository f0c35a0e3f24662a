// Errors of domain operations, one per situation a caller can act on. `code` is stable and is
// what the engine protocol will carry; the message is for people.
//
//   DomainError
//   ├── NoSuchDomain        the name or id matches no domain
//   ├── DomainExists        a domain with that name (or uuid) already runs
//   ├── InvalidState        the operation is not allowed in the domain's current state
//   ├── PrivilegedDomain    the operation would act on Domain-0 (the host)
//   ├── InvalidName         the name is not a domain name (it would reach outside the state dirs)
//   └── ShutdownTimeout     the guest did not power off within the time the caller allowed

export type DomainErrorCode = 'NoSuchDomain' | 'DomainExists' | 'InvalidState' | 'PrivilegedDomain' | 'InvalidName' | 'ShutdownTimeout';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
