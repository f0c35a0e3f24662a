// The sandbox bridge: a small typed API only, never raw ipcRenderer.
import { contextBridge } from 'electron';

const api = {
  runtime: 'electron' as const,
};

export type Dom0Bridge = typeof api;

contextBridge.exposeInMainWorld('dom0', api);
