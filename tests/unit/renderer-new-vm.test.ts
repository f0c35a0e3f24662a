// The New VM wizard's rules (renderer/src/model/new-vm.ts): per-step validation with messages,
// name suggestions, and the install description each method produces.

import { describe, expect, test } from 'vitest';
import { newVmForm, suggestName, summaryOf, toDescription, validateStep, type NewVmForm } from '../../renderer/src/model/new-vm.js';

const limits = { hostMemoryMiB: 4096, hostCpus: 2, freeGiB: 10, existingNames: ['web', 'debian12'] };
const form = (over: Partial<NewVmForm> = {}): NewVmForm => ({ ...newVmForm(), ...over });

describe('New VM wizard steps', () => {
  test('step 2 wants the media of the chosen method and an OS', () => {
    expect(validateStep(2, form(), limits)).toEqual({ isoPath: 'Choose an ISO image.', osId: expect.stringMatching(/not detected/) });
    expect(validateStep(2, form({ isoPath: 'x.iso', osId: 'generic' }), limits).isoPath).toMatch(/full path/);
    expect(validateStep(2, form({ method: 'network', url: 'ftp://x', osId: 'generic' }), limits)).toEqual({ url: 'Give an http:// or https:// URL.' });
    expect(validateStep(2, form({ method: 'import', importPath: '/i.qcow2', osId: 'generic' }), limits)).toEqual({});
    expect(validateStep(2, form({ method: 'kernel', osId: 'generic', initrdPath: 'rel' }), limits)).toEqual({ kernelPath: 'Choose a kernel.', initrdPath: 'Give the full path of the initrd.' });
    expect(validateStep(2, form({ method: 'pxe', osId: 'generic' }), limits)).toEqual({});
  });

  test('step 3 keeps memory and CPUs within the host', () => {
    expect(validateStep(3, form({ memory: 8192, vcpus: 4 }), limits)).toEqual({ memory: 'The host has 4096 MiB.', vcpus: 'The host has 2 CPUs.' });
    expect(validateStep(3, form({ memory: 16, vcpus: 0 }), limits)).toEqual({ memory: expect.stringMatching(/at least 32/), vcpus: 'At least 1 CPU.' });
    expect(validateStep(3, form({ memory: 512, vcpus: 2 }), limits)).toEqual({});
  });

  test('step 4 checks the size against the free space, or wants an image', () => {
    expect(validateStep(4, form({ sizeGiB: 20 }), limits)).toEqual({ sizeGiB: 'Only 10.0 GiB are free in the pool.' });
    expect(validateStep(4, form({ sizeGiB: 0 }), limits)).toEqual({ sizeGiB: 'Give a size above 0 GiB.' });
    expect(validateStep(4, form({ storageMode: 'existing' }), limits)).toEqual({ existingPath: 'Choose a disk image.' });
    expect(validateStep(4, form({ storage: false, sizeGiB: 999 }), limits)).toEqual({});
  });

  test('step 5 refuses bad and taken names and bad bridges', () => {
    expect(validateStep(5, form({ name: 'web' }), limits)).toEqual({ name: 'A domain named web exists already.' });
    expect(validateStep(5, form({ name: 'a b' }), limits).name).toMatch(/letters, digits/);
    expect(validateStep(5, form({ name: 'ok', network: 'bridge', bridge: 'br0;x' }), limits).bridge).toMatch(/bridge/);
    expect(validateStep(5, form({ name: 'ok' }), limits)).toEqual({});
  });

  test('names are suggested from the OS without clashing', () => {
    expect(suggestName('fedora40', limits.existingNames)).toBe('fedora40');
    expect(suggestName('debian12', limits.existingNames)).toBe('debian12-2');
    expect(suggestName('', [])).toBe('vm');
  });

  test('each method becomes the install description virt-install would send', () => {
    expect(toDescription(form({ name: 'a', isoPath: '/i.iso', osId: 'debian12', memory: 1024, vcpus: 2, sizeGiB: 20 }))).toEqual({
      name: 'a',
      memory: 1024,
      vcpus: 2,
      osVariant: 'debian12',
      source: { kind: 'cdrom', path: '/i.iso' },
      disks: [{ kind: 'new', sizeGiB: 20 }],
      network: { kind: 'nat' },
      graphics: 'vnc',
      start: true,
    });
    expect(toDescription(form({ method: 'import', importPath: '/d.qcow2', storage: false, customize: true }))).toMatchObject({ source: { kind: 'import' }, disks: [{ kind: 'existing', path: '/d.qcow2' }], start: false });
    expect(toDescription(form({ method: 'kernel', kernelPath: '/k', kernelArgs: 'quiet', storage: false, network: 'bridge', bridge: 'br0' }))).toMatchObject({
      source: { kind: 'kernel', kernel: '/k', args: 'quiet' },
      disks: [],
      network: { kind: 'bridge', bridge: 'br0' },
      osVariant: 'generic',
    });
    expect(toDescription(form({ method: 'network', url: 'http://m/', extraArgs: 'console=ttyS0', storageMode: 'existing', existingPath: '/e.img' }))).toMatchObject({
      source: { kind: 'location', url: 'http://m/', extraArgs: 'console=ttyS0' },
      disks: [{ kind: 'existing', path: '/e.img' }],
    });
    expect(summaryOf(form({ isoPath: '/i.iso', sizeGiB: 5 }), 'Debian 12')).toContainEqual(['Storage', '5 GiB new disk image (qcow2)']);
  });
});
