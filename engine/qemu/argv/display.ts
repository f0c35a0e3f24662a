// Graphics. The VNC server always listens on a unix socket in the domain's runtime dir: a TCP
// listener would be reachable by every local user, so remote viewers go through the engine's
// authenticated relay instead. vnclisten/vncdisplay are therefore kept in the config but not used
// to open a port.

import type { DomainConfig } from '../../config/index.js';
import { UnsupportedConfigError } from '../errors.js';
import type { QemuContext, QemuOption } from './context.js';
import { optValue } from './escape.js';

export function displayOptions(config: DomainConfig, ctx: QemuContext): QemuOption[] {
  const sdl = config.vfb.find((v) => v.type === 'sdl');
  if (sdl) {
    throw new UnsupportedConfigError(
      "vfb 'sdl=1': Dom0 shows guest screens in its own console window; use 'vnc=1' instead",
    );
  }
  const vnc = config.vfb.find((v) => v.type === 'vnc');
  if (!vnc || config.nographic) return [['-vga', 'none'], ['-display', 'none']];
  const options: QemuOption[] = [
    ['-vga', config.stdvga ? 'std' : 'cirrus'],
    ['-display', 'none'],
    // The password itself is set over QMP after start, so it never appears in argv or `ps`.
    ['-vnc', `unix:${optValue(`${ctx.runtimeDir}/vnc.sock`, 'runtime dir')}${vnc.vncpasswd ? ',password=on' : ''}`],
  ];
  if (vnc.keymap) options.push(['-k', optValue(vnc.keymap, 'keymap')]);
  return options;
}
