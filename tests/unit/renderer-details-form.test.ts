// The Details tab's form: checked before anything is sent, and only changed fields go to
// domain.update. Also the storage list of the Delete dialog, built from the same config.

import { describe, expect, it } from 'vitest';
import type { DomainConfig } from '../../renderer/src/api/types.js';
import {
  bootOrderOptions,
  checkDescription,
  describeUpdate,
  formFromConfig,
  validateDetails,
} from '../../renderer/src/model/details-form.js';
import type { DetailsInput } from '../../renderer/src/model/details-form.js';
import { deletableDisks } from '../../renderer/src/model/storage.js';

function config(over: Partial<DomainConfig> = {}): DomainConfig {
  return {
    name: 'vm1',
    memory: 256,
    vcpus: 1,
    builder: 'linux',
    kernel: '/boot/vmlinuz',
    ramdisk: '/boot/initrd.img',
    extra: 'console=ttyS0',
    disk: [],
    vif: [],
    vfb: [],
    stdvga: false,
    nographic: false,
    localtime: false,
    acpi: true,
    apic: true,
    pae: true,
    usb: false,
    on_poweroff: 'destroy',
    on_reboot: 'restart',
    on_crash: 'restart',
    ...over,
  };
}

const original = formFromConfig(config());

function edit(over: Partial<DetailsInput>): DetailsInput {
  return { ...original, ...over };
}

describe('details form', () => {
  it('starts from the config, with maximums defaulting to the current values', () => {
    expect(original).toMatchObject({ vcpus: '1', maxvcpus: '1', memory: '256', maxmem: '256', boot: 'c', kernel: '/boot/vmlinuz' });
  });

  it('sends nothing when nothing changed', () => {
    expect(validateDetails(edit({}), original)).toEqual({ valid: true, errors: {}, changes: {} });
  });

  it('sends only the fields that changed, as numbers', () => {
    const v = validateDetails(edit({ memory: '192', on_crash: 'preserve' }), original);
    expect(v.valid).toBe(true);
    expect(v.changes).toEqual({ memory: 192, on_crash: 'preserve' });
  });

  it('takes the numbers that number inputs give', () => {
    const v = validateDetails(edit({ vcpus: 2, maxvcpus: 4 }), original);
    expect(v.changes).toEqual({ vcpus: 2, maxvcpus: 4 });
  });

  it("refuses what the host cannot give (the report's 999999 MiB and 64 vCPUs on a 24 GiB, 2-CPU host)", () => {
    const host = { memoryMiB: 24_576, cpus: 2 };
    const v = validateDetails(edit({ memory: '999999', maxmem: '999999', vcpus: '64', maxvcpus: '64' }), original, host);
    expect(v.valid).toBe(false);
    expect(v.errors).toEqual({
      memory: 'The host has 24576 MiB: give at most that.',
      maxmem: 'The host has 24576 MiB: give at most that.',
      vcpus: 'The host has 2 CPUs: give at most 2 vCPUs.',
    });
    expect(v.changes).toEqual({ maxvcpus: 64 });
    expect(validateDetails(edit({ memory: '24576', maxmem: '24576', vcpus: '2', maxvcpus: '2' }), original, host).valid).toBe(true);
  });

  it('refuses memory under 16 MiB, with the message on the memory field', () => {
    const v = validateDetails(edit({ memory: '8', maxmem: '256' }), original);
    expect(v.valid).toBe(false);
    expect(v.errors.memory).toMatch(/at least 16 MiB/);
    expect(v.errors.maxmem).toBeUndefined();
    expect(v.changes).toEqual({});
  });

  it('never counts an invalid value as a change, so a form holding only mistakes has nothing to send', () => {
    const v = validateDetails(edit({ memory: '8', vcpus: '2', maxvcpus: '2', kernel: 'vmlinuz', boot: 'cc' }), original);
    expect(v.valid).toBe(false);
    expect(Object.keys(v.errors).sort()).toEqual(['boot', 'kernel', 'memory']);
    expect(v.changes).toEqual({ vcpus: 2, maxvcpus: 2 });
  });

  it('refuses a maximum memory below the memory, on the maximum’s field', () => {
    const v = validateDetails(edit({ memory: '512' }), original);
    expect(v.valid).toBe(false);
    expect(v.errors.maxmem).toMatch(/at least the memory \(512 MiB\)/);
  });

  it('accepts raising memory together with its maximum', () => {
    const v = validateDetails(edit({ memory: '512', maxmem: '1024' }), original);
    expect(v).toMatchObject({ valid: true, changes: { memory: 512, maxmem: 1024 } });
  });

  it.each([
    ['', /Enter the memory/],
    ['abc', /whole number/],
    ['1.5', /whole number/],
    ['-4', /whole number/],
  ])('says what is wrong with memory %j', (value, message) => {
    const v = validateDetails(edit({ memory: value }), original);
    expect(v.valid).toBe(false);
    expect(v.errors.memory).toMatch(message);
  });

  it('refuses fewer than one vCPU and a maximum below the vCPUs', () => {
    expect(validateDetails(edit({ vcpus: '0', maxvcpus: '1' }), original).errors.vcpus).toMatch(/at least 1 vCPU/);
    expect(validateDetails(edit({ vcpus: '4' }), original).errors.maxvcpus).toMatch(/at least the vCPUs \(4\)/);
  });

  it('clears the kernel with an empty string, and refuses an initrd without a kernel', () => {
    const cleared = validateDetails(edit({ kernel: '', ramdisk: '' }), original);
    expect(cleared).toMatchObject({ valid: true, changes: { kernel: '', ramdisk: '' } });
    const orphan = validateDetails(edit({ kernel: '' }), original);
    expect(orphan.valid).toBe(false);
    expect(orphan.errors.ramdisk).toMatch(/needs a kernel/);
  });

  it('wants absolute paths for kernel and initrd', () => {
    expect(validateDetails(edit({ kernel: 'vmlinuz' }), original).errors.kernel).toMatch(/absolute path/);
  });

  it('accepts boot orders of c, d and n without repeats', () => {
    expect(validateDetails(edit({ boot: 'dc' }), original).changes).toEqual({ boot: 'dc' });
    expect(validateDetails(edit({ boot: 'cc' }), original).errors.boot).toBeDefined();
    expect(validateDetails(edit({ boot: 'x' }), original).errors.boot).toBeDefined();
  });

  it('offers every boot order in words, and keeps an unusual current one', () => {
    const options = bootOrderOptions('c');
    expect(options).toHaveLength(15);
    expect(options.find((o) => o.value === 'dc')?.label).toBe('CD-ROM, then Hard disk');
    expect(options.find((o) => o.value === 'n')?.label).toBe('Network (PXE)');
    expect(bootOrderOptions('a')[0]).toEqual({ value: 'a', label: 'a' });
  });

  it('ticks "Start when the engine starts" only for on_xend_start = "start"', () => {
    expect(original.autostart).toBe(false);
    expect(formFromConfig(config({ on_xend_start: 'start' })).autostart).toBe(true);
    expect(formFromConfig(config({ on_xend_start: 'ignore' })).autostart).toBe(false);
  });

  it('sends autostart only when the box changed, as a boolean either way', () => {
    expect(validateDetails(edit({ autostart: true }), original)).toEqual({ valid: true, errors: {}, changes: { autostart: true } });
    const on = formFromConfig(config({ on_xend_start: 'start' }));
    expect(validateDetails({ ...on, autostart: false }, on).changes).toEqual({ autostart: false });
    expect(validateDetails({ ...on }, on).changes).toEqual({});
    expect(validateDetails(edit({ autostart: true, memory: '512', maxmem: '512' }), original).changes).toEqual({
      memory: 512,
      maxmem: 512,
      autostart: true,
    });
  });

  it('names the fields of domain.update’s answer as the form does', () => {
    expect(describeUpdate({ live: ['memory'], nextBoot: ['vcpus', 'boot', 'on_crash'] })).toEqual({
      live: ['Memory'],
      nextBoot: ['vCPUs', 'Boot order', 'On crash'],
    });
    expect(describeUpdate({ live: ['autostart', 'description'], nextBoot: [] }).live).toEqual([
      'Start when the engine starts',
      'Description',
    ]);
  });
});

describe('description on the Overview', () => {
  it('sends nothing while the text is what the config holds (ends trimmed)', () => {
    expect(checkDescription('Web server', 'Web server')).toEqual({});
    expect(checkDescription('  Web server\n', 'Web server')).toEqual({});
    expect(checkDescription('   ', undefined)).toEqual({});
  });

  it('sends the new text trimmed, and an empty string to clear it', () => {
    expect(checkDescription(' Mail relay\nsecond line ', 'Web server')).toEqual({ change: 'Mail relay\nsecond line' });
    expect(checkDescription('First words', undefined)).toEqual({ change: 'First words' });
    expect(checkDescription('', 'Web server')).toEqual({ change: '' });
  });

  it('refuses more than 4096 characters', () => {
    expect(checkDescription('x'.repeat(4096), undefined)).toEqual({ change: 'x'.repeat(4096) });
    expect(checkDescription('x'.repeat(4097), undefined).error).toMatch(/At most 4096 characters/);
    expect(checkDescription('x'.repeat(4097), undefined).change).toBeUndefined();
  });
});

describe('storage offered by the Delete dialog', () => {
  it('lists file-backed disks, writable ones checked, CD-ROMs and read-only ones not, block devices never', () => {
    const disks = deletableDisks(
      config({
        disk: [
          { backend: 'file', target: '/var/lib/dom0/images/vm1.qcow2', format: 'qcow2', vdev: 'xvda', devtype: 'disk', access: 'w' },
          { backend: 'file', target: '/isos/debian.iso', format: 'raw', vdev: 'hdc', devtype: 'cdrom', access: 'r' },
          { backend: 'phy', target: '/dev/vg0/vm1', format: 'raw', vdev: 'xvdb', devtype: 'disk', access: 'w' },
          { backend: 'file', target: '', format: 'raw', vdev: 'hdd', devtype: 'cdrom', access: 'r' },
          { backend: 'tap', target: '/shared/base.img', format: 'raw', vdev: 'xvdc', devtype: 'disk', access: 'r' },
        ],
      }),
    );
    expect(disks.map((d) => [d.path, d.checkedByDefault])).toEqual([
      ['/var/lib/dom0/images/vm1.qcow2', true],
      ['/isos/debian.iso', false],
      ['/shared/base.img', false],
    ]);
    expect(disks[0]!.note).toBe('xvda · qcow2 · read/write');
  });
});
