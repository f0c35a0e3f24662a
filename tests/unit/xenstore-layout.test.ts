// The Xen layout xend writes for a domain, checked against the paths and numbers Xen used.
import { expect, test } from 'vitest';
import { loadDomainConfigText } from '../../engine/config/index.js';
import type { DomainInfo } from '../../engine/domains/index.js';
import { domainNodes, vbdDevid } from '../../engine/xend/xenstore-sync.js';

test("vbd device numbers are Xen's", () => {
  expect(vbdDevid('xvda')).toBe(51712);
  expect(vbdDevid('xvdb')).toBe(51728);
  expect(vbdDevid('hda')).toBe(768);
  expect(vbdDevid('hdb')).toBe(832);
  expect(vbdDevid('hdc')).toBe(5632);
  expect(vbdDevid('sda')).toBe(2048);
});

test('a domain with a disk and a bridged vif gets frontend, backend and /vm nodes', () => {
  const { config } = loadDomainConfigText(
    'name = "web1"\nkernel = "/k"\nmemory = 256\nmaxmem = 512\nvcpus = 2\ndisk = ["file:/img/a.img,xvda,w"]\nvif = ["mac=00:16:3e:00:00:01,bridge=xenbr0"]\n',
    'web1.cfg',
  );
  const info: DomainInfo = {
    domid: 7,
    name: 'web1',
    uuid: '06ed00fe-1162-4fc4-b5d8-11993ee4a8b9',
    status: 'running',
    state: '-b----',
    memory: 256,
    maxmem: 512,
    vcpus: 2,
    cpuTime: 0,
    accel: 'tcg',
    pid: 1,
    startTime: 1_700_000_000_000,
    restartCount: 0,
    runtimeDir: '/run/dom0/domains/web1',
    macs: ['00:16:3e:00:00:01'],
  };
  const nodes = new Map(domainNodes(info, config));
  expect(nodes.get('/local/domain/7/name')).toBe('web1');
  expect(nodes.get('/local/domain/7/vm')).toBe('/vm/06ed00fe-1162-4fc4-b5d8-11993ee4a8b9');
  expect(nodes.get('/local/domain/7/memory/target')).toBe('262144');
  expect(nodes.get('/local/domain/7/cpu/1/availability')).toBe('online');
  expect(nodes.get('/local/domain/7/device/vbd/51712/backend')).toBe('/local/domain/0/backend/vbd/7/51712');
  expect(nodes.get('/local/domain/0/backend/vbd/7/51712/params')).toBe('/img/a.img');
  expect(nodes.get('/local/domain/0/backend/vbd/7/51712/state')).toBe('4');
  expect(nodes.get('/local/domain/7/device/vif/0/mac')).toBe('00:16:3e:00:00:01');
  expect(nodes.get('/local/domain/0/backend/vif/7/0/bridge')).toBe('xenbr0');
  expect(nodes.get('/vm/06ed00fe-1162-4fc4-b5d8-11993ee4a8b9/on_crash')).toBe('restart');
  expect(nodes.get('/vm/06ed00fe-1162-4fc4-b5d8-11993ee4a8b9/vcpu_avail')).toBe('3');
});
