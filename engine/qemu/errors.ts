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
    readonly summary: string,
    readonly stderr: string,
  ) {
    super(stderr.trim() ? `${summary}\n${stderr.trim()}` : summary);
  }

  /**
   * The same failure told about one domain: which domain did not start, what to change when
   * QEMU's words say it (a hint per known cause), then QEMU's own lines.
   */
  forDomain(name: string): QemuStartError {
    const hint = startFailureHint(this.stderr);
    return new QemuStartError(`Domain ${name} did not start: ${this.summary}.${hint ? ` ${hint}` : ''}`, this.stderr);
  }
}

/** What to change, for the QEMU start failures whose cause its stderr names. */
export function startFailureHint(stderr: string): string | undefined {
  if (/cannot set up guest memory|Cannot allocate memory|Out of memory/i.test(stderr)) {
    return 'The host could not give it its memory: lower its memory (Details → Memory, or memory = in its config) or shut other domains down.';
  }
  if (/Invalid CPU topology|exceeds the (recommended|maximum)|maxcpus|Number of hotpluggable cpus/i.test(stderr)) {
    return 'QEMU refused its vCPUs: lower vCPUs or maximum vCPUs (Details → CPUs, or vcpus = / maxvcpus = in its config).';
  }
  const file = /Could not open '([^']+)'/.exec(stderr);
  if (file) return `QEMU could not open ${file[1]}: check that it exists and is readable and writable, or fix the path in its disk line.`;
  if (/Address already in use/i.test(stderr)) return 'A port it asks for is taken: change vncdisplay (or set vncunused = 1) or the hostfwd port in its config.';
  if (/not in qcow2 format|Image is not in|Unknown driver|format/i.test(stderr) && /drive|image|qcow|raw/i.test(stderr)) {
    return "A disk image is not in the format its disk line names: fix the format (tap:qcow2: or file:) or convert the image with qemu-img.";
  }
  return undefined;
}
