// A defined domain's identity: the uuid and the MACs are chosen when it is defined and kept by every
// later definition of it (edits, xm new of the same name), never clash with other domains', and
// old definitions without them get theirs once.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadDomainConfigText } from '../../engine/config/index.js';
import { DomainDefinitions } from '../../engine/domains/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'd0-defs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cfg = (text: string) => loadDomainConfigText(text, 'test.cfg').config;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const XEN_MAC = /^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/;

describe('defined domains keep their uuid and MACs', () => {
  test('defining writes a uuid and a MAC per vif into the file', async () => {
    const defs = new DomainDefinitions(dir);
    const def = await defs.define(cfg("name = 'web'\nmemory = 128\nkernel = '/k'\nvif = ['', 'model=e1000']"));
    expect(def.config.uuid).toMatch(UUID);
    expect(def.config.vif.map((v) => v.mac)).toEqual([expect.stringMatching(XEN_MAC), expect.stringMatching(XEN_MAC)]);
    const text = readFileSync(join(dir, 'web.cfg'), 'utf8');
    expect(text).toContain(def.config.uuid);
    for (const v of def.config.vif) expect(text).toContain(`mac=${v.mac}`);
  });

  test('defining the same domain again (an edit, or xm new of a file without them) keeps them', async () => {
    const defs = new DomainDefinitions(dir);
    const first = await defs.define(cfg("name = 'web'\nmemory = 128\nkernel = '/k'\nvif = ['']"));
    const again = await defs.define(cfg("name = 'web'\nmemory = 256\nkernel = '/k'\nvif = ['', 'model=e1000']"));
    expect(again.config.uuid).toBe(first.config.uuid);
    expect(again.config.vif[0]!.mac).toBe(first.config.vif[0]!.mac);
    expect(again.config.vif[1]!.mac).toMatch(XEN_MAC);
    expect(again.config.vif[1]!.mac).not.toBe(first.config.vif[0]!.mac);
  });

  test('a written uuid or mac= is kept as given; new MACs avoid the other domains\' and the running ones\'', async () => {
    const running = new Set<string>();
    const defs = new DomainDefinitions(dir, { macsInUse: () => running });
    const given = await defs.define(cfg("name = 'a'\nmemory = 128\nkernel = '/k'\nuuid = '06ed00fe-1162-4fc4-b5d8-11993ee4a8b9'\nvif = ['mac=00:16:3e:00:00:01']"));
    expect(given.config.uuid).toBe('06ed00fe-1162-4fc4-b5d8-11993ee4a8b9');
    expect(given.config.vif[0]!.mac).toBe('00:16:3e:00:00:01');
    const seen = new Set(['00:16:3e:00:00:01']);
    for (let i = 0; i < 20; i++) {
      running.add(`00:16:3e:7f:00:${i.toString(16).padStart(2, '0')}`);
      const def = await defs.define(cfg(`name = 'd${i}'\nmemory = 128\nkernel = '/k'\nvif = ['']`));
      const mac = def.config.vif[0]!.mac!;
      expect(seen.has(mac) || running.has(mac)).toBe(false);
      seen.add(mac);
    }
  });

  test('definitions from before (no uuid, vif without mac) get theirs once, and keep them', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'old.cfg'), "name = 'old'\nmemory = 128\nkernel = '/k'\nvif = ['bridge=xenbr0']\n");
    const defs = new DomainDefinitions(dir);
    expect(await defs.fixIdentities()).toEqual(['old']);
    const def = (await defs.get('old'))!;
    expect(def.config.uuid).toMatch(UUID);
    expect(def.config.vif[0]).toMatchObject({ bridge: 'xenbr0', mac: expect.stringMatching(XEN_MAC) });
    expect(await defs.fixIdentities()).toEqual([]);
    expect((await defs.get('old'))!.config.uuid).toBe(def.config.uuid);
  });
});
