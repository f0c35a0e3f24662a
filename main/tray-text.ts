// What the tray says, and the icon it shows: plain data, no Electron calls.

import type { MenuItemConstructorOptions } from 'electron';
import type { DomainRow } from '../engine/protocol/common/xend-api.js';

/**
 * Domains that are on: every row but Domain-0 that has a QEMU process (running, paused, shutting
 * down, crashed and preserved). These are the ones that keep running when the window closes.
 */
export function countRunning(rows: readonly DomainRow[]): number {
  return rows.filter((row) => row.domid !== undefined && row.domid !== 0 && row.status !== 'halted').length;
}

export function trayTooltip(running: number | undefined): string {
  return running === undefined ? 'Dom0 — engine not connected' : `Dom0 — ${running} running`;
}

export function trayMenuTemplate(actions: { onShow: () => void; onQuit: () => void }): MenuItemConstructorOptions[] {
  return [
    { label: 'Show Dom0', click: actions.onShow },
    { type: 'separator' },
    { label: 'Quit Dom0', click: actions.onQuit },
  ];
}

/**
 * The tray and window icon as a BGRA bitmap (nativeImage.createFromBitmap): a blue rounded tile
 * with a white screen outline. Drawn here because resources/ has no icon yet.
 */
export function iconBitmap(size = 32): { buffer: Buffer; width: number; height: number } {
  const buffer = Buffer.alloc(size * size * 4);
  const radius = size / 6;
  const inset = Math.round(size * 0.22);
  const stroke = Math.max(1, Math.round(size / 16));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      // Rounded corners: outside the corner circles is transparent.
      const cx = x < radius ? radius : x > size - 1 - radius ? size - 1 - radius : x;
      const cy = y < radius ? radius : y > size - 1 - radius ? size - 1 - radius : y;
      if ((x - cx) ** 2 + (y - cy) ** 2 > radius ** 2) continue;
      const inScreen = x >= inset && x < size - inset && y >= inset && y < size - inset - stroke;
      const inHole = x >= inset + stroke && x < size - inset - stroke && y >= inset + stroke && y < size - inset - 2 * stroke;
      const white = inScreen && !inHole;
      buffer[i] = white ? 0xff : 0xc0; // B
      buffer[i + 1] = white ? 0xff : 0x6a; // G
      buffer[i + 2] = white ? 0xff : 0x1f; // R
      buffer[i + 3] = 0xff; // A
    }
  }
  return { buffer, width: size, height: size };
}
