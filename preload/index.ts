// The sandbox bridge: `window.dom0`, two members, one IPC channel. Never raw ipcRenderer, never a
// channel chosen by the page: the function takes no arguments and forwards none.
import { contextBridge, ipcRenderer } from 'electron';
import { ENGINE_ENDPOINT_CHANNEL, type Dom0Bridge, type EngineEndpoint } from './api.js';

const bridge: Dom0Bridge = {
  runtime: 'electron',
  getEngineEndpoint: () => ipcRenderer.invoke(ENGINE_ENDPOINT_CHANNEL) as Promise<EngineEndpoint>,
};

contextBridge.exposeInMainWorld('dom0', bridge);
