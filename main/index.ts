// Electron main: thin. It opens the manager window with the secure defaults and denies every
// navigation and new window. Starting xenstored/xend and the tray arrive with the desktop-app issue.
import { app, BrowserWindow } from 'electron';
import { join } from 'node:path';
import { preloadPathFor, secureWebPreferences } from './window-options.js';

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1024,
    height: 700,
    title: 'Dom0',
    webPreferences: secureWebPreferences(preloadPathFor(import.meta.dirname)),
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(import.meta.dirname, '../renderer/index.html'));
}

void app.whenReady().then(createWindow);
app.on('window-all-closed', () => app.quit());
