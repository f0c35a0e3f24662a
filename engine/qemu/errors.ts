// Errors of the QEMU driver that a user can act on. Each says what is wrong and what to do.
//
//   QemuDriverError
//   ├── UnsupportedConfigError   a valid xm config that QEMU cannot run as written
//   ├── UnsafeValueError         a config value that could smuggle options (control characters)
//   ├── QemuNotFoundError        no qemu-system-x86_64 / qemu-img on this host
//   ├── PreflightError           something the config names is missing on the host (disk, kernel, bridge)
//   └── QemuStartError           QEMU exited while starting; carries its stderr

export class QemuDriverError extends Error {
  override name = 'QemuDriverError';
}

export class UnsupportedConfigError extends QemuDriverError {
  override name = 'UnsupportedConfigError';
}

export class UnsafeValueError extends QemuDriverError {
  override name = 'UnsafeValueError';
}

export class QemuNotFoundError extends QemuDriverError {
  override name = 'QemuNotFoundError';
}

export class PreflightError extends QemuDriverError {
  override name = 'PreflightError';
}

export class QemuStartError extends QemuDriverError {
  override name = 'QemuStartError';
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(stderr.trim() ? `${message}\n${stderr.trim()}` : message);
  }
}
