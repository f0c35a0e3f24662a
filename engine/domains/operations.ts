// The domain operations and the states in which each is allowed (Firecracker's habit: one list,
// refused with a named error otherwise). Status names are ours; the letters are Xen's.

export type DomainStatus = 'running' | 'paused' | 'shutdown' | 'crashed' | 'dying';

export type DomainOperation =
  | 'destroy'
  | 'shutdown'
  | 'reboot'
  | 'pause'
  | 'unpause'
  | 'reset'
  | 'sendKey'
  | 'screenshot'
  | 'rename'
  | 'memSet'
  | 'vcpuSet'
  | 'vcpuList'
  | 'sysrq'
  | 'dumpCore'
  | 'hotplug'
  | 'schedCreditSet'

  | 'save'
  | 'migrate'
  | 'snapshot'
  | 'backup';

export const ALLOWED_IN: Readonly<Record<DomainOperation, readonly DomainStatus[]>> = {
  /** Hard kill: always allowed except while already dying. */
  destroy: ['running', 'paused', 'shutdown', 'crashed'],
  /** ACPI power button: the guest must be executing to see it. */
  shutdown: ['running'],
  /** ACPI power button, then start again instead of applying on_poweroff. */
  reboot: ['running'],
  pause: ['running'],
  unpause: ['paused'],
  /** The reset button: the guest reboots at once, without shutting down. */
  reset: ['running', 'paused'],
  /** Press a key chord on the guest's keyboard (Send Key, typing on the framebuffer). */
  sendKey: ['running'],
  /** Save what the guest's screen shows; a paused or stopped guest still has a screen. */
  screenshot: ['running', 'paused', 'shutdown', 'crashed'],
  rename: ['running', 'paused', 'shutdown', 'crashed'],
  /** The balloon driver in the guest must run to give memory back. */
  memSet: ['running', 'paused'],
  /** CPU hotplug needs a live machine; the guest onlines (or releases) the vCPU itself. */
  vcpuSet: ['running', 'paused'],
  vcpuList: ['running', 'paused', 'shutdown', 'crashed'],
  sysrq: ['running'],
  /** A crashed guest's memory is exactly what one wants to dump. */
  dumpCore: ['running', 'paused', 'shutdown', 'crashed'],
  /** Attach or detach disks and NICs, change CD media: QEMU must be live; unplug needs the guest to run. */
  hotplug: ['running', 'paused'],
  /** Weight and cap of the vCPU threads: any time their QEMU is alive. */
  schedCreditSet: ['running', 'paused', 'shutdown', 'crashed'],
  /** Save to a file or migrate: QEMU's migration stream needs a guest that is not stopping. */
  save: ['running', 'paused'],
  migrate: ['running', 'paused'],
  /** Internal snapshots and backup jobs of a live QEMU. */
  snapshot: ['running', 'paused'],
  backup: ['running', 'paused'],
};

export function isAllowed(operation: DomainOperation, status: DomainStatus): boolean {
  return ALLOWED_IN[operation].includes(status);
}

/**
 * Xen's six state letters `rbpscd`. A running QEMU guest is `r` while one of its vCPU threads is
 * on a host CPU and `b` (blocked, idle) otherwise, which is what Xen's scheduler reported.
 */
export function stateLetters(status: DomainStatus, vcpuOnCpu: boolean): string {
  switch (status) {
    case 'running':
      return vcpuOnCpu ? 'r-----' : '-b----';
    case 'paused':
      return '--p---';
    case 'shutdown':
      return '---s--';
    case 'crashed':
      return '----c-';
    case 'dying':
      return '-----d';
  }
}
