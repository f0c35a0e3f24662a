// The libvirt client's pure parts: XDR from the generated descriptors, packet framing, URIs and
// known_hosts. The daemon itself is exercised in tests/integration/libvirt.test.ts.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeNamed, encodeNamed } from '../../engine/libvirt/xdr.js';
import { encodePacket, MessageType, PacketReader } from '../../engine/libvirt/packet.js';
import { procedures, REMOTE_PROGRAM } from '../../engine/libvirt/generated/remote-protocol.js';
import { parseLibvirtUri } from '../../engine/libvirt/uri.js';
import { fingerprintOf, KnownHosts } from '../../engine/libvirt/known-hosts.js';
import { remoteCommand } from '../../engine/libvirt/connect.js';
import { LibvirtConnectError, LibvirtProtocolError } from '../../engine/libvirt/errors.js';

describe('generated protocol', () => {
  test('procedure numbers are libvirt’s', () => {
    expect(REMOTE_PROGRAM).toBe(0x20008086);
    expect(procedures.ConnectOpen.num).toBe(1);
    expect(procedures.DomainLookupByName.num).toBe(23);
    expect(procedures.DomainOpenConsole.num).toBe(201);
    expect(procedures.ConnectListAllDomains.num).toBe(273);
    expect(procedures.ConnectGetAllDomainStats.num).toBe(344);
    expect(procedures.DomainEventCallbackLifecycle).toMatchObject({ num: 318, msg: 'remote_domain_event_callback_lifecycle_msg' });
  });
});

describe('XDR', () => {
  test('a domain lookup reply round-trips with its padding', () => {
    const dom = { name: 'abcde', uuid: Buffer.alloc(16, 7), id: -1 };
    const bytes = encodeNamed('remote_domain_lookup_by_name_ret', { dom });
    // length 5 + "abcde" padded to 8, 16 uuid bytes, 4-byte id.
    expect(bytes.length).toBe(4 + 8 + 16 + 4);
    expect(bytes.subarray(0, 12)).toEqual(Buffer.from([0, 0, 0, 5, 0x61, 0x62, 0x63, 0x64, 0x65, 0, 0, 0]));
    expect(decodeNamed('remote_domain_lookup_by_name_ret', bytes)).toEqual({ dom });
  });

  test('optional strings, unions (typed params) and hypers', () => {
    const value = {
      retStats: [
        {
          dom: { name: 'vm', uuid: Buffer.alloc(16), id: 3 },
          params: [
            { field: 'state.state', value: { type: 1, i: 1 } },
            { field: 'cpu.time', value: { type: 4, ul: 12345678901234n } },
            { field: 'name', value: { type: 7, s: 'x' } },
          ],
        },
      ],
    };
    expect(decodeNamed('remote_connect_get_all_domain_stats_ret', encodeNamed('remote_connect_get_all_domain_stats_ret', value))).toEqual(value);
    const open = { name: null, flags: 0 };
    expect(encodeNamed('remote_connect_open_args', open)).toEqual(Buffer.alloc(8));
    expect(decodeNamed('remote_connect_open_args', encodeNamed('remote_connect_open_args', { name: 'qemu:///system', flags: 2 }))).toEqual({ name: 'qemu:///system', flags: 2 });
  });

  test('a body that ends early or claims more than it holds is a protocol error, not a crash', () => {
    const good = encodeNamed('remote_domain_lookup_by_name_ret', { dom: { name: 'abc', uuid: Buffer.alloc(16), id: 1 } });
    expect(() => decodeNamed('remote_domain_lookup_by_name_ret', good.subarray(0, 10))).toThrow(LibvirtProtocolError);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0x7fffffff, 0);
    expect(() => decodeNamed('remote_connect_list_all_domains_ret', huge)).toThrow(LibvirtProtocolError);
  });
});

describe('packets', () => {
  test('split across chunks and several in one chunk', () => {
    const a = encodePacket({ program: REMOTE_PROGRAM, version: 1, procedure: 1, type: MessageType.REPLY, serial: 7, status: 0 }, Buffer.from([1, 2, 3, 4]));
    const b = encodePacket({ program: REMOTE_PROGRAM, version: 1, procedure: 318, type: MessageType.MESSAGE, serial: 0, status: 0 }, Buffer.alloc(0));
    const all = Buffer.concat([a, b]);
    expect(all.readUInt32BE(0)).toBe(28 + 4);
    const r = new PacketReader();
    expect(r.push(all.subarray(0, 3))).toEqual([]);
    expect(r.push(all.subarray(3, 30))).toEqual([]);
    const got = r.push(all.subarray(30));
    expect(got.map((p) => [p.header.procedure, p.header.serial, p.body.length])).toEqual([
      [1, 7, 4],
      [318, 0, 0],
    ]);
  });

  test('a peer that is not libvirt (an HTTP banner) is refused', () => {
    expect(() => new PacketReader().push(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))).toThrow(/does not speak libvirt/);
  });
});

describe('libvirt URIs', () => {
  test('local, session and SSH forms', () => {
    expect(parseLibvirtUri('qemu:///system')).toMatchObject({ transport: 'unix', mode: 'system', openName: 'qemu:///system' });
    expect(parseLibvirtUri('qemu:///session')).toMatchObject({ transport: 'unix', mode: 'session' });
    expect(parseLibvirtUri('qemu+ssh://root@server.example:2222/system?keyfile=~/.ssh/id_lab')).toMatchObject({
      transport: 'ssh',
      user: 'root',
      host: 'server.example',
      port: 2222,
      keyfile: '~/.ssh/id_lab',
      openName: 'qemu:///system',
    });
    expect(parseLibvirtUri('qemu+ssh://[fe80::1]/system')).toMatchObject({ host: 'fe80::1' });
  });

  test.each([
    ['xen:///system', /Xen hosts are not supported/],
    ['lxc:///', /LXC containers are not supported/],
    ['vbox:///session', /VirtualBox are not supported/],
    ['qemu+tcp://host/system', /'tcp' transport is not supported.*qemu\+ssh:\/\/host\/system/],
    ['qemu://host/system', /use qemu\+ssh:\/\/host\/system/],
    ['qemu+ssh://root@host/system?command=rm%20-rf', /command= parameter is not supported/],
    ['qemu+ssh://root@host/system?no_verify=1', /no_verify= parameter/],
    ['qemu+ssh://ro;ot@host/system', /is not a user name/],
    ['qemu+ssh://root@host/system?known_hosts=/root/.bashrc', /a file named known_hosts/],
    ['qemu:///', /\/system or \/session/],
    ['not a uri', /is not a libvirt URI/],
  ])('%s is refused: %s', (uri, message) => {
    let err: unknown;
    try {
      parseLibvirtUri(uri);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LibvirtConnectError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(uri.trim());
  });

  test('the far-side command: virt-ssh-helper, else nc -U on the daemon socket; nothing unquoted', () => {
    expect(() => parseLibvirtUri("qemu+ssh://u@h/system?socket=/run/a'b")).toThrow(/socket= must be an absolute path/);
    const cmd = remoteCommand(parseLibvirtUri('qemu+ssh://u@h/system'));
    expect(cmd.startsWith("sh -c '")).toBe(true);
    expect(cmd).toContain("exec virt-ssh-helper '\\''qemu:///system'\\''");
    expect(cmd).toContain('/var/run/libvirt/libvirt-sock');
    // With ?socket= the helper (which picks its own socket) is not used.
    expect(remoteCommand(parseLibvirtUri('qemu+ssh://u@h/system?socket=/run/lv.sock'))).not.toContain('virt-ssh-helper');
  });
});

describe('known_hosts', () => {
  const dir = mkdtempSync('/tmp/dom0-kh-unit-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k1')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k2')]);
  const blob = (n: string) => Buffer.from(readFileSync(join(dir, `${n}.pub`), 'utf8').split(' ')[1]!, 'base64');

  test('fingerprints match ssh-keygen -l', () => {
    const fp = execFileSync('ssh-keygen', ['-lf', join(dir, 'k1.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprintOf(blob('k1'))).toBe(fp);
  });

  test('known, changed, unknown, port-qualified and hashed entries', () => {
    const file = join(dir, 'known_hosts');
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('hashed.example').digest('base64')}`;
    writeFileSync(
      file,
      [
        `server.example,10.0.0.5 ssh-ed25519 ${blob('k1').toString('base64')}`,
        `[127.0.0.1]:2222 ssh-ed25519 ${blob('k1').toString('base64')}`,
        `${hashed} ssh-ed25519 ${blob('k2').toString('base64')}`,
        `*.lab.example ssh-ed25519 ${blob('k2').toString('base64')}`,
        '',
      ].join('\n'),
    );
    const kh = new KnownHosts(file);
    expect(kh.check('server.example', 22, blob('k1'))).toBe('known');
    expect(kh.check('10.0.0.5', 22, blob('k2'))).toBe('changed');
    expect(kh.check('127.0.0.1', 2222, blob('k1'))).toBe('known');
    // The same host on port 22 is another entry (and [127.0.0.1] is no character class).
    expect(kh.check('127.0.0.1', 22, blob('k1'))).toBe('unknown');
    expect(kh.check('1', 2222, blob('k1'))).toBe('unknown');
    expect(kh.check('hashed.example', 22, blob('k2'))).toBe('known');
    expect(kh.check('hashed.example', 22, blob('k1'))).toBe('changed');
    expect(kh.check('a.lab.example', 22, blob('k2'))).toBe('known');
    expect(kh.check('elsewhere.example', 22, blob('k1'))).toBe('unknown');
    kh.add('new.example', 2200, blob('k2'));
    expect(kh.check('new.example', 2200, blob('k2'))).toBe('known');
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)).toBe(`[new.example]:2200 ssh-ed25519 ${blob('k2').toString('base64')}`);
  });
});
