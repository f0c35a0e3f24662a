// The sandbox bridge: `window.dom0`, three members, two IPC channels. Never raw ipcRenderer, never a
// channel chosen by the page: getEngineEndpoint forwards no arguments, pickFile only a title string.
import { contextBridge, ipcRenderer } from 'electron';
import { ENGINE_ENDPOINT_CHANNEL, PICK_FILE_CHANNEL, type Dom0Bridge, type EngineEndpoint } from './api.js';

const bridge: Dom0Bridge = {
  runtime: 'electron',
  getEngineEndpoint: () => ipcRenderer.invoke(ENGINE_ENDPOINT_CHANNEL) as Promise<EngineEndpoint>,
  pickFile: (opts) => ipcRenderer.invoke(PICK_FILE_CHANNEL, { title: String(opts?.title ?? '').slice(0, 200) }) as Promise<string | undefined>,
};

contextBridge.exposeInMainWorld('dom0', bridge);
