// Writing xm files: what `xm new` and the creation wizard save. The output is an ordinary-looking
// Xen config that this module (and Python) reads back to exactly the same values.

import { formatDiskSpec } from './disk.js';
import type { DomainConfig } from './types.js';
import { DOMAIN_DEFAULTS } from './validate.js';
import { formatXmValue, type XmFile, type XmValue } from './values.js';
import { formatVfbSpec } from './vfb.js';
import { formatVifSpec } from './vif.js';

const LIST_WIDTH = 100;

function line(key: string, value: XmValue): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new RangeError(`'${key}' cannot be a config key`);
  return `${key} = ${formatXmValue(value, { width: LIST_WIDTH - key.length - 3 })}`;
}

/** Every assignment, in order, one per line. */
export function serializeXm(file: XmFile): string {
  return file.assignments.map((a) => `${line(a.key, a.value)}\n`).join('');
}

/**
 * A DomainConfig as an xm file: name, memory and vcpus always, other keys only where they differ
 * from Xen's defaults, in the order Xen's example configs use.
 */
export function serializeDomainConfig(config: DomainConfig): string {
  const out: string[] = [];
  const put = (key: string, value: XmValue | undefined): void => {
    if (value !== undefined) out.push(line(key, value));
  };
  const flag = (key: keyof typeof DOMAIN_DEFAULTS & keyof DomainConfig): void => {
    const v = config[key];
    if (v !== DOMAIN_DEFAULTS[key]) put(key, v ? 1 : 0);
  };
  put('name', config.name);
  put('uuid', config.uuid);
  put('description', config.description);
  put('memory', config.memory);
  put('maxmem', config.maxmem);
  put('vcpus', config.vcpus);
  put('maxvcpus', config.maxvcpus);
  put('cpus', config.cpus);
  put('cpu_weight', config.cpu_weight);
  put('cpu_cap', config.cpu_cap);
  if (config.builder !== DOMAIN_DEFAULTS.builder) put('builder', config.builder);
  put('kernel', config.kernel);
  put('ramdisk', config.ramdisk);
  put('root', config.root);
  put('extra', config.extra);
  put('bootloader', config.bootloader);
  put('bootargs', config.bootargs);
  put('boot', config.boot);
  flag('acpi');
  flag('apic');
  flag('pae');
  flag('localtime');
  flag('stdvga');
  flag('nographic');
  flag('usb');
  put('usbdevice', config.usbdevice);
  put('soundhw', config.soundhw);
  put('serial', config.serial);
  if (config.disk.length > 0) put('disk', config.disk.map(formatDiskSpec));
  if (config.vif.length > 0) put('vif', config.vif.map(formatVifSpec));
  if (config.vfb.length > 0) put('vfb', config.vfb.map(formatVfbSpec));
  for (const key of ['on_poweroff', 'on_reboot', 'on_crash'] as const) {
    if (config[key] !== DOMAIN_DEFAULTS[key]) put(key, config[key]);
  }
  put('on_xend_start', config.on_xend_start);
  put('on_xend_stop', config.on_xend_stop);
  return out.map((l) => `${l}\n`).join('');
}
