// The preload with electron mocked: it exposes `window.dom0` with exactly three members, and the
// only things the page can make it do are invoke 'dom0:get-engine-endpoint' with no arguments and
// 'dom0:pick-file' with a title string.

import { expect, test, vi } from 'vitest';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(async () => ({ url: 'ws://127.0.0.1:40123/engine', token: 'tok' })), send: vi.fn(), on: vi.fn(), sendSync: vi.fn() },
}));
vi.mock('electron', () => electron);

test('exposes window.dom0 = { runtime, getEngineEndpoint, pickFile } and nothing else', async () => {
  await import('../../preload/index.js');
  expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
  const [key, api] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as [string, Record<string, unknown>];
  expect(key).toBe('dom0');
  expect(Object.keys(api).sort()).toEqual(['getEngineEndpoint', 'pickFile', 'runtime']);
  expect(api.runtime).toBe('electron');
  // Importing it sent nothing.
  expect(electron.ipcRenderer.invoke).not.toHaveBeenCalled();

  const getEngineEndpoint = api.getEngineEndpoint as (...args: unknown[]) => Promise<unknown>;
  await expect(getEngineEndpoint()).resolves.toEqual({ url: 'ws://127.0.0.1:40123/engine', token: 'tok' });
  // Arguments from the page are not forwarded.
  await getEngineEndpoint('dom0:other-channel', { evil: true });
  expect(electron.ipcRenderer.invoke.mock.calls).toEqual([['dom0:get-engine-endpoint'], ['dom0:get-engine-endpoint']]);
  // pickFile forwards a title string and nothing else, whatever the page passes.
  const pickFile = api.pickFile as (...args: unknown[]) => Promise<unknown>;
  await pickFile({ title: 'Choose an ISO image', channel: 'dom0:other' }, 'extra');
  expect(electron.ipcRenderer.invoke.mock.calls.at(-1)).toEqual(['dom0:pick-file', { title: 'Choose an ISO image' }]);
  expect(electron.ipcRenderer.send).not.toHaveBeenCalled();
  expect(electron.ipcRenderer.sendSync).not.toHaveBeenCalled();
  expect(electron.ipcRenderer.on).not.toHaveBeenCalled();
});
