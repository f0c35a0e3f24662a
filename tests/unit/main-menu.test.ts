// The menu, the tray's text and icon, and the engine dialogs: data handed to Electron as is.

import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { alreadyRunningQuestion, engineFailureMessage, isReplaceAnswer } from '../../main/dialogs.js';
import { EngineAlreadyRunningError, EngineGaveUpError } from '../../main/engine-service.js';
import { appMenuTemplate } from '../../main/menu.js';
import { countRunning, iconBitmap, trayMenuTemplate, trayTooltip } from '../../main/tray-text.js';
import type { DomainRow } from '../../engine/protocol/common/xend-api.js';

function items(menu: MenuItemConstructorOptions): MenuItemConstructorOptions[] {
  return (menu.submenu as MenuItemConstructorOptions[]).filter((i) => i.type !== 'separator');
}
const summary = (menu: MenuItemConstructorOptions) => items(menu).map((i) => [i.role ?? i.id, i.accelerator, i.enabled ?? true]);

describe('application menu', () => {
  const [file, edit, view, help] = appMenuTemplate({ isMac: false });

  it('has File, Edit, View, Help', () => {
    expect(appMenuTemplate({ isMac: false }).map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Help']);
  });

  it('File: New VM (disabled for now), Close Window Ctrl+W, Quit Ctrl+Q', () => {
    expect(summary(file!)).toEqual([
      ['new-vm', 'CmdOrCtrl+N', false],
      ['close', 'CmdOrCtrl+W', true],
      ['quit', 'CmdOrCtrl+Q', true],
    ]);
  });

  it('Edit: the usual editing roles and keys', () => {
    expect(summary(edit!)).toEqual([
      ['undo', 'CmdOrCtrl+Z', true],
      ['redo', 'CmdOrCtrl+Y', true],
      ['cut', 'CmdOrCtrl+X', true],
      ['copy', 'CmdOrCtrl+C', true],
      ['paste', 'CmdOrCtrl+V', true],
      ['selectAll', 'CmdOrCtrl+A', true],
    ]);
  });

  it('View: reload, devtools, zoom, full screen', () => {
    expect(summary(view!)).toEqual([
      ['reload', 'CmdOrCtrl+R', true],
      ['toggleDevTools', 'Ctrl+Shift+I', true],
      ['resetZoom', 'CmdOrCtrl+0', true],
      ['zoomIn', 'CmdOrCtrl+Plus', true],
      ['zoomOut', 'CmdOrCtrl+-', true],
      ['togglefullscreen', 'F11', true],
    ]);
  });

  it('Help: About Dom0', () => {
    expect(items(help!)).toEqual([{ role: 'about', label: 'About Dom0' }]);
  });

  it('on macOS moves About and Quit to the app menu', () => {
    const mac = appMenuTemplate({ isMac: true });
    expect(mac.map((m) => m.label)).toEqual(['Dom0', '&File', '&Edit', '&View', '&Help']);
    expect(items(mac[0]!).map((i) => i.role)).toEqual(['about', 'hide', 'hideOthers', 'unhide', 'quit']);
    expect(items(mac[1]!).map((i) => i.role ?? i.id)).toEqual(['new-vm', 'close']);
  });
});

describe('tray', () => {
  const row = (name: string, domid: number | undefined, status: DomainRow['status']): DomainRow =>
    ({ name, domid, status, state: '', memory: 0, maxmem: 0, vcpus: 1, cpuTime: 0 }) as DomainRow;

  it('says how many domains run, Domain-0 and halted ones aside', () => {
    const rows = [row('Domain-0', 0, 'running'), row('a', 1, 'running'), row('b', 2, 'paused'), row('c', undefined, 'halted')];
    expect(countRunning(rows)).toBe(2);
    expect(trayTooltip(countRunning(rows))).toBe('Dom0 — 2 running');
    expect(trayTooltip(0)).toBe('Dom0 — 0 running');
    expect(trayTooltip(undefined)).toBe('Dom0 — engine not connected');
  });

  it('offers Show and Quit', () => {
    const calls: string[] = [];
    const menu = trayMenuTemplate({ onShow: () => calls.push('show'), onQuit: () => calls.push('quit') });
    expect(menu.map((i) => i.label ?? i.type)).toEqual(['Show Dom0', 'separator', 'Quit Dom0']);
    for (const item of menu) (item.click as (() => void) | undefined)?.();
    expect(calls).toEqual(['show', 'quit']);
  });

  it('draws an opaque square icon with transparent rounded corners', () => {
    const { buffer, width, height } = iconBitmap(32);
    expect([width, height, buffer.length]).toEqual([32, 32, 32 * 32 * 4]);
    const alpha = (x: number, y: number) => buffer[(y * 32 + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(16, 16)).toBe(0xff);
    expect(alpha(16, 0)).toBe(0xff);
  });
});

describe('engine dialogs', () => {
  it('asks before replacing a running xend; Restart is the default', () => {
    const q = alreadyRunningQuestion(4242);
    expect(q.message).toBe('Another xend (pid 4242) is already running for this state dir.');
    expect(q.detail).toMatch(/leaves every domain running/);
    expect(q.buttons).toEqual(['Restart xend', 'Cancel']);
    expect([isReplaceAnswer(q.defaultId!), isReplaceAnswer(q.cancelId!)]).toEqual([true, false]);
  });

  it('reports engine failures, but not the one the user chose', () => {
    expect(engineFailureMessage(new EngineGaveUpError('xend stopped unexpectedly 6 times'))).toEqual({ title: 'Dom0 engine', content: 'xend stopped unexpectedly 6 times' });
    expect(engineFailureMessage(new EngineAlreadyRunningError(1))).toBeUndefined();
  });
});
