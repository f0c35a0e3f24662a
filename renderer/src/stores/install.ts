// The New VM wizard's engine state: the OS catalogue and the default pool of a connection, read
// once per wizard; detection, folder listings and the create call go through here to the API.

import { defineStore } from 'pinia';
import { readonly, ref } from 'vue';
import {
  filesList,
  installCreate,
  installDetect,
  installOsList,
  installPoolInfo,
  type FolderListing,
  type InstallDescription,
  type InstallResult,
  type MediaDetection,
  type OsInfo,
  type PoolInfo,
} from '../api/index.js';

export const useInstallStore = defineStore('install', () => {
  const osList = ref<OsInfo[]>([]);
  const pool = ref<PoolInfo | null>(null);
  /** A domain the wizard defined for "Customize configuration before install", not yet begun. */
  const customizing = ref<{ conn: string; name: string } | null>(null);
  let osLoad: Promise<void> | null = null;

  function setCustomizing(target: { conn: string; name: string } | null): void {
    customizing.value = target;
  }

  function setOsList(list: OsInfo[]): void {
    osList.value = list;
  }

  function setPool(info: PoolInfo): void {
    pool.value = info;
  }

  /** The catalogue never changes while the engine runs: one load shared by every caller. */
  function loadOsList(conn: string): Promise<void> {
    osLoad ??= installOsList({ conn })
      .then(setOsList)
      .catch((err: unknown) => {
        osLoad = null;
        throw err;
      });
    return osLoad;
  }

  async function loadPool(conn: string): Promise<void> {
    setPool(await installPoolInfo({ conn }));
  }

  function osById(id: string): OsInfo | undefined {
    return osList.value.find((o) => o.id === id);
  }

  function detect(conn: string, media: { cdrom: string } | { location: string }): Promise<MediaDetection> {
    return installDetect({ conn, ...media });
  }

  function browse(conn: string, path?: string): Promise<FolderListing> {
    return filesList({ conn, path });
  }

  function create(conn: string, description: InstallDescription): Promise<InstallResult> {
    return installCreate({ conn, description });
  }

  return { osList: readonly(osList), pool: readonly(pool), customizing: readonly(customizing), setCustomizing, loadOsList, loadPool, osById, detect, browse, create };
});
