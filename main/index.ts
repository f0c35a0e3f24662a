// Electron main: thin glue between Electron's objects and plain modules that hold the decisions.
//
// What is covered where (the Electron binary cannot be downloaded here, so nothing runs under real
// Electron in this repo's tests; every module below is plain Node and unit-tested with electron
// mocked or absent):
//   engine-starter.ts   utility-process and Node-fork starters   tests/unit/main-engine-starter.test.ts (real child processes)
//   engine-service.ts   start, Web UI line, restarts ≤ 5, already-running, stop   tests/unit/main-engine-service.test.ts (object-literal starter)
//   running-xend.ts     xend.pid liveness, stopping a foreign xend   tests/unit/main-running-xend.test.ts (real processes)
//   xend-client.ts      domain count for the tray, shutdownAll   tests/unit/main-xend-client.test.ts (real unix-socket server)
//   quit-flow.ts        quit question and its state machine   tests/unit/main-quit-flow.test.ts
//   menu.ts, tray-text.ts, dialogs.ts   menu template, tray text/icon, dialog texts   tests/unit/main-menu.test.ts
//   renderer-origin.ts, ipc.ts   the one IPC handler and its sender check; navigation check   tests/unit/main-ipc.test.ts
//   window-options.ts   window security baseline   tests/unit/main-window.test.ts
//   this file           wiring only; imported with every electron API mocked (lock, window, navigation,
//                       IPC, utility-process fork, tray, quit, SIGTERM)   tests/unit/main-index.test.ts
//   preload/            the bridge   tests/unit/preload-bridge.test.ts
// Not covered here: real Electron behaviour (utilityProcess spawning, Tray on a desktop, dialogs).

import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, session, Tray, utilityProcess, type NativeImage } from 'electron';
import { resolvePaths } from '../engine/common/paths.js';
import { alreadyRunningQuestion, engineFailureMessage, isReplaceAnswer } from './dialogs.js';
import { EngineService } from './engine-service.js';
import { nodeForkStarter, utilityProcessStarter } from './engine-starter.js';
import { registerEngineEndpointHandler, registerPickFileHandler } from './ipc.js';
import { appMenuTemplate } from './menu.js';
import { QuitFlow, quitChoice, quitQuestion } from './quit-flow.js';
import { isRendererUrl, isTrustedSender, rendererLocation } from './renderer-origin.js';
import { readLiveXendPid, stopXendProcess, xendSocketPath } from './running-xend.js';
import { iconBitmap, trayMenuTemplate, trayTooltip } from './tray-text.js';
import { isPermissionAllowed, preloadPathFor, secureWebPreferences } from './window-options.js';
import { connectXend, shutdownAllDomains, watchRunningDomains, type DomainWatch } from './xend-client.js';

const mainDir = import.meta.dirname;
const renderer = rendererLocation(mainDir);
const xendEntry = join(mainDir, '../engine/cli/xend.js');
const paths = resolvePaths(process.env);
const socketPath = xendSocketPath(paths.runtimeDir);

if (!app.requestSingleInstanceLock()) {
  // The first instance shows its window (second-instance below) and this one leaves.
  app.quit();
} else {
  run();
}

function run(): void {
  let win: BrowserWindow | undefined;
  let tray: Tray | undefined;
  let icon: NativeImage | undefined;
  let watch: DomainWatch | undefined;

  const engine = new EngineService({
    // DOM0_ENGINE_STARTER=fork runs xend as a plain child (the Electron binary run as Node).
    starter: process.env.DOM0_ENGINE_STARTER === 'fork' ? nodeForkStarter(xendEntry) : utilityProcessStarter(xendEntry, utilityProcess.fork),
    env: process.env,
    runningXendPid: () => readLiveXendPid(paths.runtimeDir),
    onAlreadyRunning: async (pid) => isReplaceAnswer((await showMessageBox(alreadyRunningQuestion(pid))).response),
    stopForeignXend: (pid) => stopXendProcess(pid),
    shutdownAllDomains: () => shutdownAllDomains(socketPath),
    onFailed: (error) => {
      const message = engineFailureMessage(error);
      if (message) dialog.showErrorBox(message.title, message.content);
    },
    log: (level, message) => console[level](`dom0: ${message}`),
  });

  const quitFlow = new QuitFlow({
    runningCount: () => watch?.count,
    ask: async (running) => quitChoice((await showMessageBox(quitQuestion(running))).response),
    stopEngine: (opts) => engine.stop(opts),
    reportError: (error) => dialog.showErrorBox('Dom0', `Shutting down the domains failed; those still on keep running.\n\n${(error as Error).message}`),
    quit: () => app.quit(),
  });

  function showMessageBox(options: Electron.MessageBoxOptions) {
    return win && !win.isDestroyed() ? dialog.showMessageBox(win, options) : dialog.showMessageBox(options);
  }

  function showWindow(): void {
    if (win && !win.isDestroyed()) {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
      return;
    }
    win = createWindow();
    win.on('closed', () => (win = undefined));
  }

  function createWindow(): BrowserWindow {
    const w = new BrowserWindow({
      width: 1024,
      height: 700,
      title: 'Dom0',
      icon,
      webPreferences: secureWebPreferences(preloadPathFor(mainDir)),
    });
    w.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    w.webContents.on('will-navigate', (event) => {
      if (!isRendererUrl(event.url, renderer)) event.preventDefault();
    });
    if (renderer.devServerUrl) void w.loadURL(renderer.devServerUrl);
    else void w.loadFile(renderer.indexFile);
    return w;
  }

  registerEngineEndpointHandler(ipcMain, {
    isTrustedSender: (frame) => isTrustedSender(frame, renderer),
    getEndpoint: () => engine.getEndpoint(),
  });
  registerPickFileHandler(ipcMain, {
    isTrustedSender: (frame) => isTrustedSender(frame, renderer),
    showOpenDialog: async (event, title) => {
      const owner = BrowserWindow.fromWebContents(event.sender);
      const options = { title, properties: ['openFile' as const] };
      const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
      return result.canceled ? undefined : result.filePaths[0];
    },
  });

  // A second launch (or a dock click) shows the window; these can come before 'ready'.
  const showWhenReady = () => void app.whenReady().then(showWindow);
  app.on('second-instance', showWhenReady);
  app.on('activate', showWhenReady);
  // Closing the window leaves domains running and the app in the tray; Quit ends it. On a desktop
  // without a tray host, launching Dom0 again brings the window back (second-instance).
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    if (!quitFlow.onBeforeQuit()) event.preventDefault();
  });
  // Where Node's handler gets the signal (else Electron turns it into before-quit): nobody is at
  // the window to answer a question, so quit leaving the domains running.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => quitFlow.quitNow());
  app.on('will-quit', () => {
    watch?.dispose();
    tray?.destroy();
  });

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionAllowed(permission)));
    app.setAboutPanelOptions({ applicationName: 'Dom0', applicationVersion: app.getVersion(), copyright: 'MIT License' });
    Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate({ isMac: process.platform === 'darwin' })));
    const bitmap = iconBitmap(32);
    icon = nativeImage.createFromBitmap(bitmap.buffer, { width: bitmap.width, height: bitmap.height });
    tray = new Tray(icon);
    tray.setToolTip(trayTooltip(undefined));
    tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate({ onShow: showWindow, onQuit: () => app.quit() })));
    tray.on('click', () => showWindow());
    showWindow();
    // Start xend now rather than on the renderer's first call; failures reach onFailed.
    engine.getEndpoint().catch(() => undefined);
    watch = watchRunningDomains({
      connect: () => connectXend(socketPath),
      onCount: (count) => tray?.setToolTip(trayTooltip(count)),
    });
  });
}
