// The preload with electron mocked: it exposes `window.dom0` with exactly two members, and the
// only thing the page can make it do is invoke 'dom0:get-engine-endpoint' with no arguments.

import { expect, test, vi } from 'vitest';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(async () => ({ url: 'ws://127.0.0.1:40123/engine', token: 'tok' })), send: vi.fn(), on: vi.fn(), sendSync: vi.fn() },
}));
vi.mock('electron', () => electron);

test('exposes window.dom0 = { runtime, getEngineEndpoint } and nothing else', async () => {
  await import('../../preload/index.js');
  expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
  const [key, api] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as [string, Record<string, unknown>];
  expect(key).toBe('dom0');
  expect(Object.keys(api).sort()).toEqual(['getEngineEndpoint', 'runtime']);
  expect(api.runtime).toBe('electron');
  // Importing it sent nothing.
  expect(electron.ipcRenderer.invoke).not.toHaveBeenCalled();

  const getEngineEndpoint = api.getEngineEndpoint as (...args: unknown[]) => Promise<unknown>;
  await expect(getEngineEndpoint()).resolves.toEqual({ url: 'ws://127.0.0.1:40123/engine', token: 'tok' });
  // Arguments from the page are not forwarded.
  await getEngineEndpoint('dom0:other-channel', { evil: true });
  expect(electron.ipcRenderer.invoke.mock.calls).toEqual([['dom0:get-engine-endpoint'], ['dom0:get-engine-endpoint']]);
  expect(electron.ipcRenderer.send).not.toHaveBeenCalled();
  expect(electron.ipcRenderer.sendSync).not.toHaveBeenCalled();
  expect(electron.ipcRenderer.on).not.toHaveBeenCalled();
});
