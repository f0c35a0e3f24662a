// The Details tab's CPU weight and cap: shown from the config (Xen's defaults when absent),
// checked against Xen's ranges, sent to domain.update only when changed.

import { describe, expect, it } from 'vitest';
import type { DomainConfig } from '../../renderer/src/api/types.js';
import { formFromConfig, validateDetails } from '../../renderer/src/model/details-form.js';

function config(over: Partial<DomainConfig> = {}): DomainConfig {
  return {
    name: 'vm1', memory: 256, vcpus: 2, builder: 'linux', disk: [], vif: [], vfb: [], stdvga: false, nographic: false,
    localtime: false, acpi: true, apic: true, pae: true, usb: false, on_poweroff: 'destroy', on_reboot: 'restart', on_crash: 'restart',
    ...over,
  };
}

describe('Details: CPU weight and cap', () => {
  it("shows Xen's defaults when the config has none, and the config's values otherwise", () => {
    expect(formFromConfig(config())).toMatchObject({ cpu_weight: '256', cpu_cap: '0' });
    expect(formFromConfig(config({ cpu_weight: 512, cpu_cap: 25 }))).toMatchObject({ cpu_weight: '512', cpu_cap: '25' });
  });

  it('sends only what changed', () => {
    const original = formFromConfig(config());
    expect(validateDetails({ ...original }, original).changes).toEqual({});
    const v = validateDetails({ ...original, cpu_weight: 512, cpu_cap: '50' }, original);
    expect(v.valid).toBe(true);
    expect(v.changes).toEqual({ cpu_weight: 512, cpu_cap: 50 });
  });

  it("refuses values outside Xen's ranges, the cap by the vCPU count", () => {
    const original = formFromConfig(config());
    const v = validateDetails({ ...original, cpu_weight: '0', cpu_cap: '201' }, original);
    expect(v.valid).toBe(false);
    expect(v.errors.cpu_weight).toMatch(/between 1 and 65535/);
    expect(v.errors.cpu_cap).toBe('At most 200 % (100 per vCPU); 0 means no cap.');
    expect(v.changes).toEqual({});
    expect(validateDetails({ ...original, cpu_cap: '200' }, original).valid).toBe(true);
  });
});
