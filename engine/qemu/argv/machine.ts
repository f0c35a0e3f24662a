// Machine-wide options: identity, accelerator, CPU, memory, clock, lifecycle actions and the
// always-present helper devices (pvpanic so a guest panic reaches us, balloon for mem-set).

import type { DomainConfig } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';
import type { QemuContext, QemuOption } from './context.js';
import { optList, optValue } from './escape.js';

export function identityOptions(config: DomainConfig, ctx: QemuContext): QemuOption[] {
  return [
    ['-name', `guest=${optValue(config.name, 'name')},debug-threads=on`],
    ['-uuid', optValue(config.uuid ?? ctx.uuid, 'uuid')],
  ];
}

export function machineOptions(config: DomainConfig, ctx: QemuContext): QemuOption[] {
  const machine = optList(
    [
      ['type', 'q35'],
      ['accel', ctx.accel],
      // Only written when turned off, so ordinary configs keep QEMU's default.
      ['acpi', config.acpi ? undefined : false],
    ],
    'machine',
  );
  const cpuFlags: string[] = [ctx.accel === 'kvm' ? 'host' : 'max'];
  if (!config.pae) cpuFlags.push('pae=off');
  if (!config.apic) cpuFlags.push('apic=off');
  return [
    ['-machine', machine],
    ['-cpu', cpuFlags.join(',')],
    // No options from /etc/qemu and no default devices: the guest gets exactly what the config says.
    ['-nodefaults'],
    ['-no-user-config'],
    // Build paused; the lifecycle finishes setup (balloon, passwords, taps) and then continues.
    ['-S'],
    // The engine decides what poweroff, reboot and panic mean (on_poweroff/on_reboot/on_crash), so
    // QEMU only reports them: shutdown and panic pause the VM, reboot becomes a reported shutdown.
    ['-action', 'reboot=shutdown,shutdown=pause,panic=pause'],
    // QEMU's seccomp filter: the VM process may not exec, raise privileges or change scheduling.
    ['-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny'],
  ];
}

export function memoryOptions(config: DomainConfig): QemuOption[] {
  // Xen lets mem-set grow a domain up to maxmem. A QEMU balloon can only give memory back, so the
  // guest boots with maxmem and the lifecycle balloons it down to `memory` before it runs.
  const bootMiB = Math.max(config.memory, config.maxmem ?? config.memory);
  const vcpus = config.vcpus;
  const maxvcpus = config.maxvcpus ?? vcpus;
  return [
    ['-m', `size=${bootMiB}M`],
    ['-smp', maxvcpus > vcpus ? `cpus=${vcpus},maxcpus=${maxvcpus}` : `cpus=${vcpus}`],
  ];
}

export function clockOptions(config: DomainConfig): QemuOption[] {
  return [['-rtc', `base=${config.localtime ? 'localtime' : 'utc'}`]];
}

const USB_DEVICES: Record<string, string> = { tablet: 'usb-tablet', mouse: 'usb-mouse', keyboard: 'usb-kbd' };

export function platformDeviceOptions(config: DomainConfig): QemuOption[] {
  const options: QemuOption[] = [
    ['-device', 'pvpanic'],
    ['-device', 'virtio-balloon-pci,id=balloon0'],
  ];
  if (config.usb || config.usbdevice) options.push(['-device', 'qemu-xhci,id=usb']);
  if (config.usbdevice) {
    const driver = USB_DEVICES[config.usbdevice];
    if (!driver) {
      throw new UnsupportedConfigError(
        `usbdevice '${config.usbdevice}' is not supported; use one of ${Object.keys(USB_DEVICES).join(', ')}`,
      );
    }
    options.push(['-device', `${driver},bus=usb.0`]);
  }
  options.push(...soundOptions(config));
  return options;
}

/** Xen's `soundhw` names (qemu-dm's -soundhw) → QEMU devices. `all` was every card qemu-dm had. */
export const SOUND_CARDS: Readonly<Record<string, readonly string[]>> = {
  sb16: ['sb16,audiodev=snd0'],
  es1370: ['ES1370,audiodev=snd0'],
  ac97: ['AC97,audiodev=snd0'],
  hda: ['intel-hda,id=hda0', 'hda-duplex,bus=hda0.0,audiodev=snd0'],
};

/**
 * The sound cards the guest sees. Their output goes to QEMU's `none` audio backend: a guest's
 * sound reaching the host speakers is not something Dom0 offers, but the guest still finds the
 * hardware its drivers expect, as under Xen.
 */
export function soundOptions(config: DomainConfig): QemuOption[] {
  if (!config.soundhw) return [];
  const names = config.soundhw === 'all' ? ['sb16', 'es1370'] : config.soundhw.split(',').map((n) => n.trim().toLowerCase());
  const options: QemuOption[] = [['-audiodev', 'none,id=snd0']];
  for (const name of names) {
    const devices = SOUND_CARDS[name];
    if (!devices) {
      throw new UnsupportedConfigError(`soundhw '${config.soundhw}': '${name}' is not a sound card Dom0 knows; use ${Object.keys(SOUND_CARDS).join(', ')} or all`);
    }
    for (const d of devices) options.push(['-device', d]);
  }
  return options;
}
