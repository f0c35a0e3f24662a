// Which URL is "our renderer": the one page main loads, and the only one allowed to navigate to
// or to call main over IPC. In development electron-vite serves it (ELECTRON_RENDERER_URL, any
// path on that origin); otherwise it is the built file out/renderer/index.html, exactly.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RendererLocation {
  /** The dev server's URL when electron-vite runs one. */
  devServerUrl?: string;
  /** out/renderer/index.html, used when there is no dev server. */
  indexFile: string;
}

export function rendererLocation(mainDir: string, env: NodeJS.ProcessEnv = process.env): RendererLocation {
  const indexFile = join(mainDir, '../renderer/index.html');
  const dev = env.ELECTRON_RENDERER_URL;
  return dev ? { devServerUrl: dev, indexFile } : { indexFile };
}

export function isRendererUrl(url: string, location: RendererLocation): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (location.devServerUrl !== undefined) {
    let dev: URL;
    try {
      dev = new URL(location.devServerUrl);
    } catch {
      return false;
    }
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === dev.origin;
  }
  if (parsed.protocol !== 'file:' || (parsed.host !== '' && parsed.host !== 'localhost')) return false;
  try {
    return fileURLToPath(parsed) === location.indexFile;
  } catch {
    return false;
  }
}

/** The part of Electron's WebFrameMain the check reads. */
export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/**
 * An IPC sender is trusted when it is the top frame of our renderer. A frame that navigated away
 * or was destroyed (senderFrame null) is not, nor is any subframe.
 */
export function isTrustedSender(frame: SenderFrame | null | undefined, location: RendererLocation): boolean {
  return frame !== null && frame !== undefined && frame.parent === null && isRendererUrl(frame.url, location);
}
