// main/index.ts imported with every Electron API it uses replaced by recorders: checks the wiring
// (single-instance lock, window security, navigation, the one IPC handler, xend as a utility
// process, tray, menu, quitting) without the Electron binary, which cannot be installed here.

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Listener = (...args: unknown[]) => unknown;

const h = vi.hoisted(() => {
  const state = {
    lock: true,
    appHandlers: new Map<string, Listener>(),
    windows: [] as { options: Record<string, unknown>; webContents: Record<string, unknown>; handlers: Map<string, Listener>; calls: string[] }[],
    trays: [] as { tooltips: string[]; handlers: Map<string, Listener>; menu: unknown; destroy: () => void }[],
    ipcHandlers: new Map<string, Listener>(),
    fork: undefined as unknown as Listener,
    messageBoxResponse: 0,
  };
  return state;
});

vi.mock('electron', () => {
  class BrowserWindow {
    readonly handlers = new Map<string, Listener>();
    readonly calls: string[] = [];
    readonly webContents: Record<string, unknown>;
    readonly wcHandlers = new Map<string, Listener>();
    constructor(readonly options: Record<string, unknown>) {
      this.webContents = {
        handlers: this.wcHandlers,
        setWindowOpenHandler: (fn: Listener) => this.wcHandlers.set('window-open', fn),
        on: (event: string, fn: Listener) => this.wcHandlers.set(event, fn),
      };
      h.windows.push(this as never);
    }
    on(event: string, fn: Listener) {
      this.handlers.set(event, fn);
    }
    loadURL(url: string) {
      this.calls.push(`loadURL ${url}`);
      return Promise.resolve();
    }
    loadFile(path: string) {
      this.calls.push(`loadFile ${path}`);
      return Promise.resolve();
    }
    isDestroyed = () => false;
    isMinimized = () => false;
    restore = () => this.calls.push('restore');
    show = () => this.calls.push('show');
    focus = () => this.calls.push('focus');
  }
  class Tray {
    readonly tooltips: string[] = [];
    readonly handlers = new Map<string, Listener>();
    menu: unknown;
    constructor(readonly image: unknown) {
      h.trays.push(this);
    }
    setToolTip = (text: string) => this.tooltips.push(text);
    setContextMenu = (menu: unknown) => (this.menu = menu);
    on = (event: string, fn: Listener) => this.handlers.set(event, fn);
    destroy = vi.fn();
  }
  return {
    app: {
      requestSingleInstanceLock: vi.fn(() => h.lock),
      quit: vi.fn(),
      on: vi.fn((event: string, fn: Listener) => h.appHandlers.set(event, fn)),
      whenReady: () => Promise.resolve(),
      setAboutPanelOptions: vi.fn(),
      getVersion: () => '0.1.0',
    },
    BrowserWindow,
    Tray,
    dialog: { showMessageBox: vi.fn(async () => ({ response: h.messageBoxResponse })), showErrorBox: vi.fn() },
    ipcMain: { handle: vi.fn((channel: string, fn: Listener) => h.ipcHandlers.set(channel, fn)) },
    Menu: { setApplicationMenu: vi.fn(), buildFromTemplate: vi.fn((template: unknown) => ({ template })) },
    nativeImage: { createFromBitmap: vi.fn((_buffer: Buffer, size: unknown) => ({ size })) },
    session: { defaultSession: { setPermissionRequestHandler: vi.fn() } },
    utilityProcess: { fork: (...args: unknown[]) => h.fork(...args) },
  };
});

const home = mkdtempSync(join(tmpdir(), 'dom0-main-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const repo = resolve(import.meta.dirname, '../..');

// main/index.ts quits on SIGTERM/SIGINT: take its handlers off this test process again.
const signalListeners = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
afterEach(() => {
  for (const [signal, before] of Object.entries(signalListeners)) {
    for (const l of process.listeners(signal as NodeJS.Signals)) if (!before.includes(l)) process.off(signal, l);
  }
});

beforeEach(() => {
  vi.resetModules();
  h.appHandlers.clear();
  h.ipcHandlers.clear();
  h.windows.length = 0;
  h.trays.length = 0;
  process.env.DOM0_HOME = home;
  delete process.env.ELECTRON_RENDERER_URL;
  delete process.env.DOM0_ENGINE_STARTER;
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
});

function fakeXendChild() {
  return Object.assign(new EventEmitter(), { pid: 5555, stdout: new PassThrough(), stderr: new PassThrough(), kill: vi.fn(() => true) });
}

describe('main/index.ts', () => {
  it('leaves at once when another instance holds the lock', async () => {
    h.lock = false;
    try {
      const { app } = await import('electron');
      vi.mocked(app.quit).mockClear();
      await import('../../main/index.js');
      expect(app.quit).toHaveBeenCalledTimes(1);
      expect(h.appHandlers.size).toBe(0);
      expect(h.ipcHandlers.size).toBe(0);
    } finally {
      h.lock = true;
    }
  });

  it('wires window, IPC, xend, tray, menu and quit', async () => {
    const child = fakeXendChild();
    const fork = vi.fn((..._args: unknown[]) => child);
    h.fork = fork;
    const electron = await import('electron');
    vi.mocked(electron.app.quit).mockClear();
    await import('../../main/index.js');
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));

    // The IPC handlers (engine endpoint, native Open dialog), registered before any window exists.
    expect([...h.ipcHandlers.keys()]).toEqual(['dom0:get-engine-endpoint', 'dom0:pick-file']);
    expect([...h.appHandlers.keys()].sort()).toEqual(['activate', 'before-quit', 'second-instance', 'will-quit', 'window-all-closed']);
    expect(electron.Menu.setApplicationMenu).toHaveBeenCalledTimes(1);
    expect(electron.session.defaultSession.setPermissionRequestHandler).toHaveBeenCalledTimes(1);

    // The window: sandboxed, preload next to main, renderer loaded from out/renderer.
    const win = h.windows[0]! as unknown as { options: { webPreferences: Record<string, unknown> }; wcHandlers: Map<string, Listener>; calls: string[] };
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, preload: join(repo, 'preload/index.cjs') });
    const indexFile = join(repo, 'renderer/index.html');
    expect(win.calls).toEqual([`loadFile ${indexFile}`]);
    expect(win.wcHandlers.get('window-open')!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    const navigate = (url: string) => {
      const event = { url, preventDefault: vi.fn() };
      win.wcHandlers.get('will-navigate')!(event);
      return event.preventDefault.mock.calls.length === 0;
    };
    expect(navigate('https://example.com/')).toBe(false);
    expect(navigate(pathToFileURL(indexFile).href)).toBe(true);

    // xend runs as a utility process with --web on a free loopback port.
    expect(fork).toHaveBeenCalledTimes(1);
    const [modulePath, args, options] = fork.mock.calls[0]! as [string, string[], { serviceName: string; env: Record<string, string> }];
    expect(modulePath).toBe(join(repo, 'engine/cli/xend.js'));
    expect(args).toEqual(['--web', '127.0.0.1:0', '--web-allow-origin', 'file://']);
    expect(options.serviceName).toBe('xend');
    expect(options.env.DOM0_HOME).toBe(home);

    // The renderer's call is answered once xend prints its URL; a stranger's is refused.
    const invoke = h.ipcHandlers.get('dom0:get-engine-endpoint')!;
    const answer = invoke({ senderFrame: { url: pathToFileURL(indexFile).href, parent: null } });
    child.stdout.write('Web UI: http://127.0.0.1:40999/#token=secret\n');
    await expect(answer).resolves.toEqual({ url: 'ws://127.0.0.1:40999/engine', token: 'secret' });
    await expect(invoke({ senderFrame: { url: 'https://example.com/', parent: null } })).rejects.toThrow(/refused/);

    // Tray: tooltip without an engine connection (no socket in this test), Show and Quit.
    const tray = h.trays[0]!;
    expect(tray.tooltips).toEqual(['Dom0 — engine not connected']);
    expect((tray.menu as { template: { label?: string }[] }).template.map((i) => i.label)).toEqual(['Show Dom0', undefined, 'Quit Dom0']);

    // Closing the last window does not quit; a second launch shows the window again.
    h.appHandlers.get('window-all-closed')!();
    expect(electron.app.quit).not.toHaveBeenCalled();
    h.appHandlers.get('second-instance')!();
    await vi.waitFor(() => expect(win.calls.slice(-2)).toEqual(['show', 'focus']));

    // Quit: no domain is known to run, so no question; xend is stopped (SIGTERM) and the app quits.
    const beforeQuit = { preventDefault: vi.fn() };
    h.appHandlers.get('before-quit')!(beforeQuit);
    expect(beforeQuit.preventDefault).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(child.kill).toHaveBeenCalledTimes(1));
    child.emit('exit', 0);
    await vi.waitFor(() => expect(electron.app.quit).toHaveBeenCalledTimes(1));
    expect(electron.dialog.showMessageBox).not.toHaveBeenCalled();
    const finalQuit = { preventDefault: vi.fn() };
    h.appHandlers.get('before-quit')!(finalQuit);
    expect(finalQuit.preventDefault).not.toHaveBeenCalled();
    h.appHandlers.get('will-quit')!();
    expect(tray.destroy).toHaveBeenCalled();
  });

  it('quits on SIGTERM without asking, leaving domains running', async () => {
    const child = fakeXendChild();
    h.fork = () => child;
    const electron = await import('electron');
    vi.mocked(electron.app.quit).mockClear();
    vi.mocked(electron.dialog.showMessageBox).mockClear();
    const before = process.listeners('SIGTERM');
    await import('../../main/index.js');
    const added = process.listeners('SIGTERM').filter((l) => !before.includes(l));
    expect(added).toHaveLength(1);
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    child.stdout.write('Web UI: http://127.0.0.1:41001/#token=t\n');
    (added[0] as () => void)();
    await vi.waitFor(() => expect(child.kill).toHaveBeenCalledTimes(1));
    child.emit('exit', 0);
    await vi.waitFor(() => expect(electron.app.quit).toHaveBeenCalledTimes(1));
    expect(electron.dialog.showMessageBox).not.toHaveBeenCalled();
    h.appHandlers.get('will-quit')!();
  });

  it('loads the dev server in development and allows navigation within it only', async () => {
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
    const child = fakeXendChild();
    h.fork = () => child;
    await import('../../main/index.js');
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    child.stdout.write('Web UI: http://127.0.0.1:41000/#token=t\n');
    const win = h.windows[0]! as unknown as { wcHandlers: Map<string, Listener>; calls: string[] };
    expect(win.calls).toEqual(['loadURL http://localhost:5173']);
    const event = { url: 'http://localhost:5173/#/host', preventDefault: vi.fn() };
    win.wcHandlers.get('will-navigate')!(event);
    expect(event.preventDefault).not.toHaveBeenCalled();
    h.appHandlers.get('will-quit')!();
  });
});
