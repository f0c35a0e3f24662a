// Adding and removing a domain's hardware (Add Hardware, Remove): the engine applies it live to a
// running domain where it can and saves it to the definition; the domain's config is then re-read
// (and the host's volumes, whose used-by changed).

import { defineStore } from 'pinia';
import { domainDiskAttach, domainDiskDetach, domainMediaChange, domainNicAttach, domainNicDetach } from '../api/index.js';
import { useDomainConfigStore } from './domainConfig.js';
import type { DomainRef } from './domains.js';
import { useHostStore } from './host.js';

export const useDevicesStore = defineStore('devices', () => {
  async function after(target: DomainRef): Promise<void> {
    await useDomainConfigStore().load(target);
    if (useHostStore().entryOf(target.conn)) void useHostStore().load(target.conn);
  }

  /** Add a disk (a config disk line); resolves with whether the running guest has it now. */
  async function attachDisk(target: DomainRef, spec: string): Promise<{ live: boolean; vdev: string }> {
    const r = await domainDiskAttach({ conn: target.conn, ref: target.name, spec });
    await after(target);
    return r;
  }

  async function detachDisk(target: DomainRef, vdev: string): Promise<{ live: boolean }> {
    const r = await domainDiskDetach({ conn: target.conn, ref: target.name, dev: vdev });
    await after(target);
    return r;
  }

  async function attachNic(target: DomainRef, spec: string): Promise<{ live: boolean; mac?: string }> {
    const r = await domainNicAttach({ conn: target.conn, ref: target.name, spec });
    await after(target);
    return r;
  }

  /** By position (Xen's devid) or MAC. */
  async function detachNic(target: DomainRef, dev: string): Promise<{ live: boolean }> {
    const r = await domainNicDetach({ conn: target.conn, ref: target.name, dev });
    await after(target);
    return r;
  }

  /** Insert an image into a CD-ROM drive, or eject it (''). */
  async function changeMedia(target: DomainRef, vdev: string, path: string): Promise<{ live: boolean }> {
    const r = await domainMediaChange({ conn: target.conn, ref: target.name, vdev, target: path });
    await after(target);
    return r;
  }

  return { attachDisk, detachDisk, attachNic, detachNic, changeMedia };
});
