// Config → QEMU argv. Pure: no I/O, no clock, no randomness; host facts come in through the
// context. The golden tests in tests/golden/qemu-argv/ pin the output, and `xm create -n` prints
// the same layout (formatQemuOptions).

import type { DomainConfig } from '../../config/index.js';
import { bootIndexes, kernelOptions } from './boot.js';
import { channelOptions } from './channels.js';
import type { QemuContext, QemuOption } from './context.js';
import { diskOptions, placeDisks, type DiskPlacement } from './disks.js';
import { displayOptions } from './display.js';
import { hotplugOptions } from './hotplug.js';
import { clockOptions, identityOptions, machineOptions, memoryOptions, platformDeviceOptions } from './machine.js';
import { nicOptions, placeNics, type NicPlacement } from './nics.js';

export type { Accelerator, QemuContext, QemuOption } from './context.js';
export type { DiskPlacement } from './disks.js';
export type { NicPlacement } from './nics.js';
export { HOTPLUG_PORTS, hotplugPortId } from './hotplug.js';
export { NIC_MODELS, defaultNicModel, hostfwdRules, tapName } from './nics.js';
export { SCSI_CONTROLLER } from './disks.js';

export interface QemuPlan {
  options: QemuOption[];
  disks: DiskPlacement[];
  nics: NicPlacement[];
}

/** Everything the lifecycle needs to start this config: the options and where each device went. */
export function planQemu(config: DomainConfig, ctx: QemuContext): QemuPlan {
  const disks = placeDisks(config);
  const nics = placeNics(config, ctx);
  const boot = bootIndexes(config, disks, nics);
  const options: QemuOption[] = [
    ...identityOptions(config, ctx),
    ...machineOptions(config, ctx),
    ...memoryOptions(config),
    ...clockOptions(config),
    ...kernelOptions(config),
    ...diskOptions(disks, boot),
    ...nicOptions(config, nics, boot),
    ...displayOptions(config, ctx),
    ...channelOptions(ctx),
    ...platformDeviceOptions(config),
    ...hotplugOptions(config),
  ];
  return { options, disks, nics };
}

/** The argv (without the binary) for spawn(). */
export function qemuArgv(options: readonly QemuOption[]): string[] {
  return options.flatMap(([flag, value]) => (value === undefined ? [flag] : [flag, value]));
}

/** One option per line, as the golden files and `xm create -n` show it. */
export function formatQemuOptions(options: readonly QemuOption[]): string {
  return options.map(([flag, value]) => (value === undefined ? flag : `${flag} ${value}`)).join('\n') + '\n';
}
