// Spare PCIe slots for hotplug. q35's root bus (pcie.0) takes no hotplugged devices: a disk or NIC
// added to a running domain goes behind a pcie-root-port, and those cannot be added later. Every
// domain therefore starts with a few empty ones, placed last so the other devices keep their slots.

import type { DomainConfig } from '../../config/index.js';
import type { QemuOption } from './context.js';

/** How many disks and NICs together can be hot-added to a running domain. */
export const HOTPLUG_PORTS = 4;

/** The QEMU id of spare root port `n` (0-based); hotplug.ts puts devices on these buses. */
export function hotplugPortId(n: number): string {
  return `hotplug${n}`;
}

export function hotplugOptions(config: DomainConfig): QemuOption[] {
  const options: QemuOption[] = [];
  // A root port signals hotplug with MSI, which needs the APIC: with apic = 0 QEMU refuses the
  // port ("MSI-X is not supported by interrupt controller"), so such a guest has no hotplug slots.
  if (!config.apic) return options;
  // Each port needs its own chassis number (the pair chassis/slot names a PCIe slot).
  for (let n = 0; n < HOTPLUG_PORTS; n++) options.push(['-device', `pcie-root-port,id=${hotplugPortId(n)},chassis=${n + 1}`]);
  return options;
}
