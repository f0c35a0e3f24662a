// The control and console channels every domain has, all unix sockets in its runtime dir:
// QMP (the engine's control connection) and the serial console, whose output QEMU also appends
// to serial.log so a viewer attaching later can be shown what the guest printed.

import type { QemuContext, QemuOption } from './context.js';
import { optList, rawValue } from './escape.js';

export function channelOptions(ctx: QemuContext): QemuOption[] {
  const dir = ctx.runtimeDir;
  return [
    ['-chardev', 'socket,' + optList([['id', 'qmp'], ['path', `${dir}/qmp.sock`], ['server', true], ['wait', false]], 'runtime dir')],
    ['-mon', 'chardev=qmp,mode=control'],
    [
      '-chardev',
      'socket,' +
        optList(
          [
            ['id', 'serial0'],
            ['path', `${dir}/serial.sock`],
            ['server', true],
            ['wait', false],
            ['logfile', `${dir}/serial.log`],
            ['logappend', true],
          ],
          'runtime dir',
        ),
    ],
    ['-serial', 'chardev:serial0'],
    ['-pidfile', rawValue(`${dir}/qemu.pid`, 'runtime dir')],
  ];
}
