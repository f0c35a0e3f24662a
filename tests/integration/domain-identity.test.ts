// A defined domain keeps its identity: `xm new` writes a uuid and a MAC into the definition, and
// the guest sees the same SMBIOS uuid and NIC address at every start (as under Xen's xend for
// managed domains, and libvirt); a domain started again after a shutdown is the same machine to
// its guest. Real xend, real guest under TCG.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { READY } from './helpers/engine.js';
import { SerialConsole } from './helpers/serial.js';
import { XendProcess } from './helpers/xend-process.js';

let x: XendProcess;

beforeAll(async () => {
  x = await XendProcess.start();
});

afterAll(async () => {
  await x?.stop(['ident']);
});

/** What the running guest reports as its uuid and its first NIC's MAC. */
async function guestIdentity(): Promise<{ uuid: string; mac: string }> {
  const serial = await SerialConsole.attach(x.runtimeDir('ident'));
  try {
    await serial.waitFor(READY, { timeoutMs: 120_000 });
    const uuid = (await serial.run('cat /sys/class/dmi/id/product_uuid')).trim().toLowerCase();
    const mac = (await serial.run('cat /sys/class/net/eth0/address')).trim().toLowerCase();
    return { uuid, mac };
  } finally {
    serial.close();
  }
}

describe('defined domains keep their uuid and MAC', () => {
  test('xm new fixes them in the file; the guest sees the same ones at every start', async () => {
    await x.xmOk('new', x.guestCfg('ident', ["vif = ['']"]));
    const file = readFileSync(join(x.home, 'config/domains/ident.cfg'), 'utf8');
    const uuid = /^uuid = "([0-9a-f-]{36})"$/m.exec(file)?.[1];
    const mac = /mac=(00:16:3e:[0-9a-f:]{8})/.exec(file)?.[1];
    expect(uuid, file).toBeDefined();
    expect(mac, file).toBeDefined();
    // Shut off, xm list --long already names it.
    expect(await x.xmOk('list', '--long', 'ident')).toContain(uuid);

    await x.xmOk('start', 'ident');
    expect(await guestIdentity()).toEqual({ uuid, mac });
    await x.xmOk('destroy', 'ident');
    await x.xmOk('start', 'ident');
    expect(await guestIdentity()).toEqual({ uuid, mac });
    expect(readFileSync(join(x.home, 'config/domains/ident.cfg'), 'utf8')).toBe(file);
  }, 300_000);
});
