// The application menu as data (Menu.buildFromTemplate takes it as is). Roles give the usual
// behaviour and platform labels; the accelerators are spelled out so they are part of the contract.

import type { MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  /** macOS puts About and Quit in an app-named first menu. */
  isMac: boolean;
  appName?: string;
}

export function appMenuTemplate({ isMac, appName = 'Dom0' }: MenuOptions): MenuItemConstructorOptions[] {
  const about: MenuItemConstructorOptions = { role: 'about', label: `About ${appName}` };
  const quit: MenuItemConstructorOptions = { role: 'quit', label: `Quit ${appName}`, accelerator: 'CmdOrCtrl+Q' };
  const menus: MenuItemConstructorOptions[] = [];
  if (isMac) {
    menus.push({ label: appName, submenu: [about, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, quit] });
  }
  menus.push(
    {
      label: '&File',
      submenu: [
        // The New VM wizard lives in the renderer; enabled once it exists.
        { id: 'new-vm', label: '&New Virtual Machine…', accelerator: 'CmdOrCtrl+N', enabled: false },
        { type: 'separator' },
        { role: 'close', label: '&Close Window', accelerator: 'CmdOrCtrl+W' },
        ...(isMac ? [] : [quit]),
      ],
    },
    {
      label: '&Edit',
      submenu: [
        { role: 'undo', accelerator: 'CmdOrCtrl+Z' },
        { role: 'redo', accelerator: isMac ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y' },
        { type: 'separator' },
        { role: 'cut', accelerator: 'CmdOrCtrl+X' },
        { role: 'copy', accelerator: 'CmdOrCtrl+C' },
        { role: 'paste', accelerator: 'CmdOrCtrl+V' },
        { role: 'selectAll', accelerator: 'CmdOrCtrl+A' },
      ],
    },
    {
      label: '&View',
      submenu: [
        { role: 'reload', accelerator: 'CmdOrCtrl+R' },
        { role: 'toggleDevTools', accelerator: isMac ? 'Alt+Cmd+I' : 'Ctrl+Shift+I' },
        { type: 'separator' },
        { role: 'resetZoom', accelerator: 'CmdOrCtrl+0' },
        { role: 'zoomIn', accelerator: 'CmdOrCtrl+Plus' },
        { role: 'zoomOut', accelerator: 'CmdOrCtrl+-' },
        { type: 'separator' },
        { role: 'togglefullscreen', accelerator: isMac ? 'Ctrl+Cmd+F' : 'F11' },
      ],
    },
    { label: '&Help', role: 'help', submenu: isMac ? [{ role: 'about', label: `About ${appName}` }] : [about] },
  );
  return menus;
}
