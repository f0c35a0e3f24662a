// Graphics. The VNC server always listens on a unix socket in the domain's runtime dir: a TCP
// listener would be reachable by every local user, so remote viewers go through the engine's
// authenticated relay instead. vnclisten/vncdisplay are therefore kept in the config but not used
// to open a port.

import type { DomainConfig } from '../../config/index.js';
import type { QemuContext, QemuOption } from './context.js';
import { optValue } from './escape.js';

export function displayOptions(config: DomainConfig, ctx: QemuContext): QemuOption[] {
  // An SDL window on the host was Xen's local screen; Dom0's console window is ours, and it is
  // fed by the same VNC socket, so sdl=1 gets the guest a screen just as vnc=1 does.
  const vnc = config.vfb.find((v) => v.type === 'vnc') ?? config.vfb.find((v) => v.type === 'sdl');
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
