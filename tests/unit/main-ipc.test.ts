// The one IPC handler and the checks behind it: only the top frame of our own renderer page may
// ask for the engine endpoint, and only our renderer page may be navigated to.

import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { registerEngineEndpointHandler, registerPickFileHandler, type IpcHandleTarget } from '../../main/ipc.js';
import { isRendererUrl, isTrustedSender, rendererLocation, type SenderFrame } from '../../main/renderer-origin.js';
import { ENGINE_ENDPOINT_CHANNEL, PICK_FILE_CHANNEL } from '../../preload/api.js';

const built = rendererLocation('/opt/dom0/out/main', {});
const dev = rendererLocation('/opt/dom0/out/main', { ELECTRON_RENDERER_URL: 'http://localhost:5173' });
const indexUrl = pathToFileURL('/opt/dom0/out/renderer/index.html').href;

describe('the renderer location', () => {
  it('is out/renderer/index.html next to out/main, or the dev server', () => {
    expect(built).toEqual({ indexFile: '/opt/dom0/out/renderer/index.html' });
    expect(dev).toEqual({ devServerUrl: 'http://localhost:5173', indexFile: '/opt/dom0/out/renderer/index.html' });
  });

  it('built: exactly that file (any hash or query), nothing else', () => {
    expect(isRendererUrl(indexUrl, built)).toBe(true);
    expect(isRendererUrl(`${indexUrl}#/domain/web1`, built)).toBe(true);
    expect(isRendererUrl(`${indexUrl}?x=1`, built)).toBe(true);
    for (const url of [
      'file:///opt/dom0/out/renderer/other.html',
      'file:///etc/passwd',
      'file:///opt/dom0/out/renderer/../renderer/index.html.evil',
      'file://evil.example/opt/dom0/out/renderer/index.html',
      'http://localhost:5173/',
      'https://example.com/',
      'not a url',
      '',
    ]) {
      expect(isRendererUrl(url, built), url).toBe(false);
    }
  });

  it('dev: any page of the dev server origin, nothing else', () => {
    expect(isRendererUrl('http://localhost:5173/', dev)).toBe(true);
    expect(isRendererUrl('http://localhost:5173/index.html#x', dev)).toBe(true);
    for (const url of ['http://localhost:5174/', 'http://127.0.0.1:5173/', 'https://localhost:5173/', indexUrl, 'http://localhost:5173@evil.example/']) {
      expect(isRendererUrl(url, dev), url).toBe(false);
    }
  });

  it('trusts the top frame of our page only', () => {
    expect(isTrustedSender({ url: indexUrl, parent: null }, built)).toBe(true);
    expect(isTrustedSender({ url: indexUrl, parent: { url: indexUrl } }, built)).toBe(false);
    expect(isTrustedSender({ url: 'https://example.com/', parent: null }, built)).toBe(false);
    expect(isTrustedSender(null, built)).toBe(false);
    expect(isTrustedSender(undefined, built)).toBe(false);
  });
});

describe('dom0:get-engine-endpoint', () => {
  type Endpoint = { url: string; token: string; extra?: string };
  function register(getEndpoint: () => Promise<Endpoint> = async () => ({ url: 'ws://127.0.0.1:40123/engine', token: 'tok', extra: 'not for the renderer' })) {
    const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
    const ipc: IpcHandleTarget = { handle: (channel, listener) => void handlers.set(channel, listener) };
    registerEngineEndpointHandler(ipc, { isTrustedSender: (frame) => isTrustedSender(frame, built), getEndpoint });
    const invoke = (frame: SenderFrame | null, ...args: unknown[]) => handlers.get(ENGINE_ENDPOINT_CHANNEL)!({ senderFrame: frame } as IpcMainInvokeEvent, ...args);
    return { handlers, invoke };
  }

  it('is registered on the channel the preload uses', () => {
    expect(ENGINE_ENDPOINT_CHANNEL).toBe('dom0:get-engine-endpoint');
    expect([...register().handlers.keys()]).toEqual(['dom0:get-engine-endpoint']);
  });

  it('answers our window with exactly url and token', async () => {
    await expect(register().invoke({ url: indexUrl, parent: null })).resolves.toStrictEqual({ url: 'ws://127.0.0.1:40123/engine', token: 'tok' });
  });

  it('refuses any other sender without starting anything', async () => {
    const getEndpoint = vi.fn(async () => ({ url: 'u', token: 't' }));
    const { invoke } = register(getEndpoint);
    await expect(invoke({ url: 'https://example.com/', parent: null })).rejects.toThrow(/refused: the caller is not the Dom0 window/);
    await expect(invoke(null)).rejects.toThrow(/refused/);
    await expect(invoke({ url: indexUrl, parent: {} })).rejects.toThrow(/refused/);
    expect(getEndpoint).not.toHaveBeenCalled();
  });

  it("passes the engine's failure on", async () => {
    const { invoke } = register(async () => {
      throw new Error('xend stopped unexpectedly 6 times');
    });
    await expect(invoke({ url: indexUrl, parent: null })).rejects.toThrow('xend stopped unexpectedly 6 times');
  });
});

describe('dom0:pick-file', () => {
  function register(showOpenDialog = vi.fn(async (_event: IpcMainInvokeEvent, _title: string): Promise<string | undefined> => '/isos/debian.iso')) {
    const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
    const ipc: IpcHandleTarget = { handle: (channel, listener) => void handlers.set(channel, listener) };
    registerPickFileHandler(ipc, { isTrustedSender: (frame) => isTrustedSender(frame, built), showOpenDialog });
    const invoke = (frame: SenderFrame | null, ...args: unknown[]) => handlers.get(PICK_FILE_CHANNEL)!({ senderFrame: frame } as IpcMainInvokeEvent, ...args);
    return { invoke, showOpenDialog };
  }

  it('opens the native dialog with the title only and answers the chosen path', async () => {
    const { invoke, showOpenDialog } = register();
    await expect(invoke({ url: indexUrl, parent: null }, { title: 'Choose an ISO image', properties: ['openDirectory'] })).resolves.toBe('/isos/debian.iso');
    expect(showOpenDialog.mock.calls[0]![1]).toBe('Choose an ISO image');
    await invoke({ url: indexUrl, parent: null }, { title: 42 });
    expect(showOpenDialog.mock.calls[1]![1]).toBe('Choose a file');
  });

  it('answers undefined when cancelled and refuses other senders', async () => {
    const { invoke, showOpenDialog } = register(vi.fn(async () => undefined));
    await expect(invoke({ url: indexUrl, parent: null }, { title: 't' })).resolves.toBeUndefined();
    await expect(invoke({ url: 'https://example.com/', parent: null }, { title: 't' })).rejects.toThrow(/refused/);
    expect(showOpenDialog).toHaveBeenCalledTimes(1);
  });
});
