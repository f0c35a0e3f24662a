// The registry's semantics, case by case from Xen's xenstored (docs/misc/xenstore.txt and
// tools/xenstore/xenstored_core.c): nodes, paths, permissions, quotas, watches, transactions.

import { describe, expect, it } from 'vitest';
import { XenstoreError, XenstoreTree } from '../../engine/xenstore/index.js';
import type { Errno, Mutation, WatchEvent, XenstoreConnection } from '../../engine/xenstore/index.js';

function errnoOf(fn: () => unknown): Errno | 'none' {
  try {
    fn();
  } catch (err) {
    if (err instanceof XenstoreError) return err.errno;
    throw err;
  }
  return 'none';
}

function setup(opts: ConstructorParameters<typeof XenstoreTree>[0] = {}) {
  const tree = new XenstoreTree(opts);
  const events = new Map<XenstoreConnection, WatchEvent[]>();
  const connect = (domid = 0) => {
    const list: WatchEvent[] = [];
    const conn = tree.connect({ domid, onWatch: (e) => list.push(e) });
    events.set(conn, list);
    return conn;
  };
  const dom0 = connect(0);
  return { tree, dom0, connect, events: (c: XenstoreConnection) => events.get(c) ?? [] };
}

/** A guest home as xend makes it: /local/domain/<id> owned by the guest, readable by dom0 only. */
function guestHome(dom0: XenstoreConnection, domid: number): void {
  dom0.mkdir(`/local/domain/${domid}`);
  dom0.setPerms(`/local/domain/${domid}`, [{ domid, access: 'n' }]);
}

describe('nodes', () => {
  it('write creates missing parents with empty values', () => {
    const { dom0 } = setup();
    dom0.write('/a/b/c', 'v');
    expect(dom0.read('/a/b/c')).toBe('v');
    expect(dom0.read('/a/b')).toBe('');
    expect(dom0.read('/a')).toBe('');
    expect(dom0.directory('/')).toEqual(['tool', 'a']);
  });

  it('a fresh tree has what Xen creates: /tool/xenstored', () => {
    const { dom0 } = setup();
    expect(dom0.directory('/')).toEqual(['tool']);
    expect(dom0.directory('/tool')).toEqual(['xenstored']);
    expect(dom0.getPerms('/')).toEqual([{ domid: 0, access: 'n' }]);
  });

  it('values may be empty and are replaced by a later write', () => {
    const { dom0 } = setup();
    dom0.write('/x', '');
    expect(dom0.read('/x')).toBe('');
    dom0.write('/x', 'second');
    expect(dom0.read('/x')).toBe('second');
  });

  it('directory lists children in creation order, not sorted', () => {
    const { dom0 } = setup();
    for (const name of ['zeta', 'alpha', '10', '9', 'mid']) dom0.write(`/d/${name}`, '');
    expect(dom0.directory('/d')).toEqual(['zeta', 'alpha', '10', '9', 'mid']);
    dom0.rm('/d/alpha');
    dom0.write('/d/alpha', '');
    expect(dom0.directory('/d')).toEqual(['zeta', '10', '9', 'mid', 'alpha']);
  });

  it('mkdir creates an empty node and leaves an existing one alone', () => {
    const { dom0 } = setup();
    dom0.mkdir('/m/n');
    expect(dom0.read('/m/n')).toBe('');
    dom0.write('/m/n', 'kept');
    dom0.mkdir('/m/n');
    expect(dom0.read('/m/n')).toBe('kept');
  });

  const rmCases: Array<[string, string, Errno | 'none']> = [
    ['rm of a node removes it and everything below', '/r/a', 'none'],
    ['rm of a missing node whose parent exists is fine', '/r/missing', 'none'],
    ['rm of a node whose parent is missing is ENOENT', '/r/nope/child', 'ENOENT'],
    ['rm of / is refused', '/', 'EINVAL'],
  ];
  it.each(rmCases)('%s', (_title, path, errno) => {
    const { dom0 } = setup();
    dom0.write('/r/a/b/c', '1');
    dom0.write('/r/keep', '2');
    expect(errnoOf(() => dom0.rm(path))).toBe(errno);
    expect(dom0.read('/r/keep')).toBe('2');
    if (path === '/r/a') {
      expect(errnoOf(() => dom0.read('/r/a/b/c'))).toBe('ENOENT');
      expect(errnoOf(() => dom0.read('/r/a'))).toBe('ENOENT');
      expect(dom0.directory('/r')).toEqual(['keep']);
    }
  });

  it('read, directory and get_perms of a missing node are ENOENT', () => {
    const { dom0 } = setup();
    expect(errnoOf(() => dom0.read('/no'))).toBe('ENOENT');
    expect(errnoOf(() => dom0.read('/no/deeper'))).toBe('ENOENT');
    expect(errnoOf(() => dom0.directory('/no'))).toBe('ENOENT');
    expect(errnoOf(() => dom0.getPerms('/no'))).toBe('ENOENT');
    expect(errnoOf(() => dom0.setPerms('/no', [{ domid: 0, access: 'n' }]))).toBe('ENOENT');
  });
});

describe('paths and sizes', () => {
  const longPath = `/${'a'.repeat(3071)}`;
  const cases: Array<[string, string, Errno | 'none']> = [
    ['plain absolute path', '/local/domain/0/name', 'none'],
    ['every allowed character', '/Az09-_@/x', 'none'],
    ['3072 bytes', longPath, 'none'],
    ['3073 bytes', `${longPath}a`, 'EINVAL'],
    ['trailing slash', '/a/', 'EINVAL'],
    ['double slash', '/a//b', 'EINVAL'],
    ['space', '/a b', 'EINVAL'],
    ['dot', '/a.b', 'EINVAL'],
    ['non-ASCII', '/é', 'EINVAL'],
    ['empty', '', 'EINVAL'],
  ];
  it.each(cases)('%s: write %#', (_title, path, errno) => {
    const { dom0 } = setup();
    expect(errnoOf(() => dom0.write(path, 'v'))).toBe(errno);
  });

  it('values up to 4096 bytes are accepted, longer ones are E2BIG', () => {
    const { dom0 } = setup();
    expect(errnoOf(() => dom0.write('/v', 'x'.repeat(4096)))).toBe('none');
    expect(errnoOf(() => dom0.write('/v', 'x'.repeat(4097)))).toBe('E2BIG');
    // Bytes, not characters: 2049 two-byte characters are 4098 bytes.
    expect(errnoOf(() => dom0.write('/v', 'é'.repeat(2049)))).toBe('E2BIG');
    expect(dom0.read('/v')).toHaveLength(4096);
  });

  it('relative paths are relative to the caller home /local/domain/<domid>', () => {
    const { dom0, connect } = setup();
    guestHome(dom0, 3);
    const guest = connect(3);
    guest.write('data/x', 'mine');
    expect(dom0.read('/local/domain/3/data/x')).toBe('mine');
    expect(guest.read('data/x')).toBe('mine');
    dom0.write('name', 'Domain-0');
    expect(dom0.read('/local/domain/0/name')).toBe('Domain-0');
  });
});

describe('permissions', () => {
  it('the first entry is the owner and the default; later entries name domains', () => {
    const { dom0, connect } = setup();
    dom0.write('/p/node', 'secret');
    dom0.setPerms('/p/node', [
      { domid: 5, access: 'n' },
      { domid: 6, access: 'r' },
      { domid: 7, access: 'w' },
      { domid: 8, access: 'b' },
    ]);
    const [d5, d6, d7, d8, d9] = [5, 6, 7, 8, 9].map((d) => connect(d)) as [
      XenstoreConnection,
      XenstoreConnection,
      XenstoreConnection,
      XenstoreConnection,
      XenstoreConnection,
    ];
    const table: Array<[string, XenstoreConnection, Errno | 'none', Errno | 'none']> = [
      ['owner', d5, 'none', 'none'],
      ['r', d6, 'none', 'EACCES'],
      ['w', d7, 'EACCES', 'none'],
      ['b', d8, 'none', 'none'],
      ['unlisted: the owner entry n', d9, 'EACCES', 'EACCES'],
      ['dom0', dom0, 'none', 'none'],
    ];
    for (const [who, conn, read, write] of table) {
      expect([who, errnoOf(() => conn.read('/p/node'))]).toEqual([who, read]);
      expect([who, errnoOf(() => conn.write('/p/node', 'x'))]).toEqual([who, write]);
    }
  });

  it('an r owner entry lets every other domain read', () => {
    const { dom0, connect } = setup();
    dom0.write('/pub', 'hello');
    dom0.setPerms('/pub', [
      { domid: 0, access: 'r' },
      { domid: 4, access: 'n' },
    ]);
    expect(connect(9).read('/pub')).toBe('hello');
    expect(errnoOf(() => connect(9).write('/pub', 'x'))).toBe('EACCES');
    expect(errnoOf(() => connect(4).read('/pub'))).toBe('EACCES');
  });

  it('a guest is denied everything on dom0 nodes (EACCES)', () => {
    const { dom0, connect } = setup();
    dom0.write('/local/domain/0/name', 'Domain-0');
    const guest = connect(1);
    expect(errnoOf(() => guest.read('/local/domain/0/name'))).toBe('EACCES');
    expect(errnoOf(() => guest.directory('/local/domain/0'))).toBe('EACCES');
    expect(errnoOf(() => guest.getPerms('/local/domain/0/name'))).toBe('EACCES');
    expect(errnoOf(() => guest.write('/local/domain/0/name', 'x'))).toBe('EACCES');
    expect(errnoOf(() => guest.write('/local/domain/0/new', 'x'))).toBe('EACCES');
    expect(errnoOf(() => guest.mkdir('/elsewhere'))).toBe('EACCES');
    expect(errnoOf(() => guest.rm('/local/domain/0/name'))).toBe('EACCES');
    expect(errnoOf(() => guest.setPerms('/local/domain/0/name', [{ domid: 1, access: 'b' }]))).toBe('EACCES');
    expect(dom0.read('/local/domain/0/name')).toBe('Domain-0');
  });

  it('a missing node under an unreadable parent is EACCES, not ENOENT (no probing)', () => {
    const { dom0, connect } = setup();
    dom0.mkdir('/hidden');
    const guest = connect(2);
    expect(errnoOf(() => guest.read('/hidden/maybe'))).toBe('EACCES');
    dom0.setPerms('/hidden', [{ domid: 0, access: 'r' }]);
    expect(errnoOf(() => guest.read('/hidden/maybe'))).toBe('ENOENT');
  });

  it('new nodes inherit the parent permissions; a guest owns what it creates', () => {
    const { dom0, connect } = setup();
    dom0.mkdir('/local/domain/4');
    dom0.setPerms('/local/domain/4', [
      { domid: 4, access: 'n' },
      { domid: 9, access: 'r' },
    ]);
    dom0.write('/local/domain/4/by-dom0/x', '1');
    expect(dom0.getPerms('/local/domain/4/by-dom0/x')).toEqual([
      { domid: 4, access: 'n' },
      { domid: 9, access: 'r' },
    ]);
    dom0.write('/shared/x', '');
    dom0.setPerms('/shared', [{ domid: 0, access: 'b' }]);
    const guest = connect(6);
    guest.write('/shared/made/by/six', 'v');
    expect(dom0.getPerms('/shared/made')).toEqual([{ domid: 6, access: 'b' }]);
    expect(dom0.getPerms('/shared/made/by/six')).toEqual([{ domid: 6, access: 'b' }]);
  });

  it('only the owner or dom0 change permissions; a guest cannot give a node away', () => {
    const { dom0, connect } = setup();
    guestHome(dom0, 3);
    const guest = connect(3);
    guest.write('data', 'x');
    guest.setPerms('data', [
      { domid: 3, access: 'n' },
      { domid: 0, access: 'r' },
    ]);
    expect(errnoOf(() => guest.setPerms('data', [{ domid: 5, access: 'n' }]))).toBe('EPERM');
    dom0.setPerms('/local/domain/3/data', [{ domid: 5, access: 'b' }]);
    expect(dom0.getPerms('/local/domain/3/data')).toEqual([{ domid: 5, access: 'b' }]);
    // Write permission alone does not allow changing permissions.
    dom0.setPerms('/local/domain/3/data', [
      { domid: 5, access: 'n' },
      { domid: 3, access: 'b' },
    ]);
    expect(errnoOf(() => guest.setPerms('data', [{ domid: 5, access: 'b' }]))).toBe('EACCES');
  });

  it('rm needs write permission on the node itself', () => {
    const { dom0, connect } = setup();
    dom0.write('/w/child', '1');
    dom0.setPerms('/w', [
      { domid: 0, access: 'n' },
      { domid: 2, access: 'w' },
    ]);
    const guest = connect(2);
    expect(errnoOf(() => guest.rm('/w/child'))).toBe('EACCES');
    expect(errnoOf(() => guest.rm('/w'))).toBe('none');
    expect(errnoOf(() => dom0.read('/w/child'))).toBe('ENOENT');
  });

  it('dom0 may act as a guest; a guest may not change identity', () => {
    const { connect } = setup();
    const c = connect(0);
    c.actAs(7);
    expect(c.domid).toBe(7);
    expect(errnoOf(() => c.actAs(0))).toBe('EACCES');
    expect(errnoOf(() => c.read('/tool'))).toBe('EACCES');
  });
});

describe('quota', () => {
  it('a guest may own at most nodesPerDomain nodes (ENOSPC); dom0 is not limited', () => {
    const { dom0, connect } = setup({ quota: { nodesPerDomain: 5 } });
    guestHome(dom0, 2); // 1 node owned by 2
    const guest = connect(2);
    for (let i = 0; i < 4; i++) guest.write(`n${i}`, '');
    expect(errnoOf(() => guest.write('n4', ''))).toBe('ENOSPC');
    expect(errnoOf(() => guest.write('a/b', ''))).toBe('ENOSPC');
    guest.rm('n0');
    expect(errnoOf(() => guest.write('n4', ''))).toBe('none');
    for (let i = 0; i < 20; i++) dom0.write(`/dom0/n${i}`, '');
  });

  it('a guest connection may hold at most watchesPerConnection watches', () => {
    const { connect } = setup({ quota: { watchesPerConnection: 3 } });
    const guest = connect(1);
    for (let i = 0; i < 3; i++) guest.watch(`/w${i}`, 't');
    expect(errnoOf(() => guest.watch('/w3', 't'))).toBe('ENOSPC');
    guest.unwatch('/w0', 't');
    expect(errnoOf(() => guest.watch('/w3', 't'))).toBe('none');
  });

  it('a guest connection may have at most transactionsPerConnection open', () => {
    const { connect } = setup({ quota: { transactionsPerConnection: 2 } });
    const guest = connect(1);
    const t1 = guest.transactionStart();
    guest.transactionStart();
    expect(errnoOf(() => guest.transactionStart())).toBe('ENOSPC');
    guest.transactionEnd(t1, false);
    expect(errnoOf(() => guest.transactionStart())).toBe('none');
  });
});

describe('watches', () => {
  it('fires once at once with the watch path and token', () => {
    const { dom0, events } = setup();
    dom0.watch('/nothing/here/yet', 'tok');
    expect(events(dom0)).toEqual([{ path: '/nothing/here/yet', token: 'tok', watch: '/nothing/here/yet' }]);
  });

  it('fires for changes at and below the path with the changed path, not above or beside', () => {
    const { dom0, connect, events } = setup();
    const w = connect(0);
    w.watch('/vm/a', 't');
    events(w).length = 0;
    dom0.write('/vm/a', '1');
    dom0.write('/vm/a/b/c', '2');
    dom0.write('/vm', 'above');
    dom0.write('/vm/ab', 'beside (prefix, not child)');
    dom0.write('/vm/b', 'beside');
    dom0.mkdir('/vm/a/d');
    dom0.setPerms('/vm/a/d', [{ domid: 0, access: 'r' }]);
    expect(events(w).map((e) => e.path)).toEqual(['/vm/a', '/vm/a/b/c', '/vm/a/d', '/vm/a/d']);
  });

  it('a write creating parents fires once, for the written node', () => {
    const { dom0, connect, events } = setup();
    const w = connect(0);
    w.watch('/', 'root');
    events(w).length = 0;
    dom0.write('/x/y/z', '');
    expect(events(w).map((e) => e.path)).toEqual(['/x/y/z']);
  });

  it('rm fires for watches at or above the node and for watches below it', () => {
    const { dom0, connect, events } = setup();
    dom0.write('/d/1/device/vbd/768/state', '4');
    const above = connect(0);
    const below = connect(0);
    const elsewhere = connect(0);
    above.watch('/d', 'a');
    below.watch('/d/1/device/vbd/768/state', 'b');
    elsewhere.watch('/e', 'c');
    for (const c of [above, below, elsewhere]) events(c).length = 0;
    dom0.rm('/d/1');
    expect(events(above)).toEqual([{ path: '/d/1', token: 'a', watch: '/d' }]);
    expect(events(below)).toEqual([{ path: '/d/1/device/vbd/768/state', token: 'b', watch: '/d/1/device/vbd/768/state' }]);
    expect(events(elsewhere)).toEqual([]);
  });

  it('rm of a missing node fires nothing', () => {
    const { dom0, events } = setup();
    dom0.write('/q', '');
    dom0.watch('/q', 't');
    events(dom0).length = 0;
    dom0.rm('/q/missing');
    expect(events(dom0)).toEqual([]);
  });

  it('unwatch stops events; unknown watches are ENOENT; duplicates EEXIST', () => {
    const { dom0, events } = setup();
    dom0.watch('/u', 't1');
    expect(errnoOf(() => dom0.watch('/u', 't1'))).toBe('EEXIST');
    dom0.watch('/u', 't2');
    dom0.unwatch('/u', 't1');
    expect(errnoOf(() => dom0.unwatch('/u', 't1'))).toBe('ENOENT');
    events(dom0).length = 0;
    dom0.write('/u', '');
    expect(events(dom0)).toEqual([{ path: '/u', token: 't2', watch: '/u' }]);
  });

  it('a relative watch reports relative paths', () => {
    const { dom0, connect, events } = setup();
    guestHome(dom0, 5);
    const guest = connect(5);
    guest.watch('device', 'dev');
    expect(events(guest)).toEqual([{ path: 'device', token: 'dev', watch: 'device' }]);
    dom0.write('/local/domain/5/device/vif/0/state', '1');
    expect(events(guest)[1]).toEqual({ path: 'device/vif/0/state', token: 'dev', watch: 'device' });
  });

  it('a guest hears only of nodes it may read', () => {
    const { dom0, connect, events } = setup();
    const guest = connect(3);
    guest.watch('/local', 'l');
    events(guest).length = 0;
    dom0.write('/local/domain/0/secret', 'x');
    dom0.write('/local/public', 'y');
    dom0.setPerms('/local/public', [{ domid: 0, access: 'r' }]);
    expect(events(guest).map((e) => e.path)).toEqual(['/local/public']);
  });

  it('@introduceDomain and @releaseDomain fire when xend says so (dom0 only)', () => {
    const { dom0, connect, events } = setup();
    const w = connect(0);
    w.watch('@introduceDomain', 'in');
    w.watch('@releaseDomain', 'out');
    w.watch('/', 'all');
    events(w).length = 0;
    dom0.introduceDomain(4);
    dom0.releaseDomain(4);
    expect(events(w)).toEqual([
      { path: '@introduceDomain', token: 'in', watch: '@introduceDomain' },
      { path: '@releaseDomain', token: 'out', watch: '@releaseDomain' },
    ]);
    expect(errnoOf(() => connect(4).introduceDomain(5))).toBe('EACCES');
    expect(errnoOf(() => dom0.introduceDomain(0))).toBe('EINVAL');
  });

  it('closing a connection drops its watches and transactions', () => {
    const { dom0, connect, events } = setup();
    const c = connect(0);
    c.watch('/z', 't');
    const tx = c.transactionStart();
    c.write('/z/in-tx', '1', tx);
    c.close();
    events(c).length = 0;
    dom0.write('/z', '');
    expect(events(c)).toEqual([]);
    expect(errnoOf(() => dom0.read('/z/in-tx'))).toBe('ENOENT');
    expect(errnoOf(() => c.read('/z'))).toBe('EINVAL');
  });
});

describe('transactions', () => {
  it('see their own writes; others see nothing until commit', () => {
    const { dom0, connect } = setup();
    const c = connect(0);
    const tx = c.transactionStart();
    c.write('/t/a', '1', tx);
    c.mkdir('/t/b', tx);
    expect(c.read('/t/a', tx)).toBe('1');
    expect(c.directory('/t', tx)).toEqual(['a', 'b']);
    expect(errnoOf(() => dom0.read('/t/a'))).toBe('ENOENT');
    expect(errnoOf(() => c.read('/t/a'))).toBe('ENOENT');
    c.transactionEnd(tx, true);
    expect(dom0.read('/t/a')).toBe('1');
    expect(dom0.directory('/t')).toEqual(['a', 'b']);
  });

  it('rm inside a transaction hides the subtree from the transaction only', () => {
    const { dom0 } = setup();
    dom0.write('/s/a/b', '1');
    const tx = dom0.transactionStart();
    dom0.rm('/s/a', tx);
    expect(errnoOf(() => dom0.read('/s/a/b', tx))).toBe('ENOENT');
    expect(dom0.read('/s/a/b')).toBe('1');
    dom0.write('/s/a', 'again', tx);
    expect(dom0.directory('/s/a', tx)).toEqual([]);
    dom0.transactionEnd(tx, true);
    expect(dom0.read('/s/a')).toBe('again');
    expect(errnoOf(() => dom0.read('/s/a/b'))).toBe('ENOENT');
  });

  it('abort discards everything', () => {
    const { dom0 } = setup();
    dom0.write('/keep', 'old');
    const tx = dom0.transactionStart();
    dom0.write('/keep', 'new', tx);
    dom0.write('/added', 'x', tx);
    dom0.transactionEnd(tx, false);
    expect(dom0.read('/keep')).toBe('old');
    expect(errnoOf(() => dom0.read('/added'))).toBe('ENOENT');
    expect(errnoOf(() => dom0.transactionEnd(tx, true))).toBe('ENOENT');
  });

  it('of two conflicting transactions, the second to commit gets EAGAIN', () => {
    const { dom0, connect } = setup();
    dom0.write('/counter', '0');
    const a = connect(0);
    const b = connect(0);
    const ta = a.transactionStart();
    const tb = b.transactionStart();
    a.write('/counter', String(Number(a.read('/counter', ta)) + 1), ta);
    b.write('/counter', String(Number(b.read('/counter', tb)) + 1), tb);
    a.transactionEnd(ta, true);
    expect(errnoOf(() => b.transactionEnd(tb, true))).toBe('EAGAIN');
    expect(dom0.read('/counter')).toBe('1');
    // The failed transaction is over.
    expect(errnoOf(() => b.transactionEnd(tb, false))).toBe('ENOENT');
  });

  it('a plain write to a node the transaction read makes the commit fail', () => {
    const { dom0 } = setup();
    dom0.write('/cfg', 'a');
    const tx = dom0.transactionStart();
    dom0.read('/cfg', tx);
    dom0.write('/other', 'x', tx);
    dom0.write('/cfg', 'b');
    expect(errnoOf(() => dom0.transactionEnd(tx, true))).toBe('EAGAIN');
    expect(errnoOf(() => dom0.read('/other'))).toBe('ENOENT');
  });

  it('a new child of a directory the transaction listed makes the commit fail', () => {
    const { dom0 } = setup();
    dom0.mkdir('/dir');
    const tx = dom0.transactionStart();
    expect(dom0.directory('/dir', tx)).toEqual([]);
    dom0.write('/dir/new', '');
    expect(errnoOf(() => dom0.transactionEnd(tx, true))).toBe('EAGAIN');
  });

  it('a node changed after the start but before the transaction first looks at it conflicts', () => {
    const { dom0 } = setup();
    dom0.write('/late', '1');
    const tx = dom0.transactionStart();
    dom0.write('/late', '2');
    expect(dom0.read('/late', tx)).toBe('2');
    expect(errnoOf(() => dom0.transactionEnd(tx, true))).toBe('EAGAIN');
  });

  it('transactions on unrelated nodes both commit', () => {
    const { dom0, connect } = setup();
    dom0.write('/x/a', '');
    dom0.write('/y/b', '');
    const a = connect(0);
    const ta = a.transactionStart();
    const tb = dom0.transactionStart();
    a.write('/x/a', '1', ta);
    dom0.write('/y/b', '2', tb);
    a.transactionEnd(ta, true);
    dom0.transactionEnd(tb, true);
    expect([dom0.read('/x/a'), dom0.read('/y/b')]).toEqual(['1', '2']);
  });

  it('watches fire on commit, not before, and not at all on abort', () => {
    const { dom0, connect, events } = setup();
    const w = connect(0);
    w.watch('/tw', 't');
    events(w).length = 0;
    const tx = dom0.transactionStart();
    dom0.write('/tw/a', '1', tx);
    dom0.write('/tw/a', '2', tx);
    dom0.write('/tw/b', '1', tx);
    expect(events(w)).toEqual([]);
    dom0.transactionEnd(tx, true);
    expect(events(w).map((e) => e.path)).toEqual(['/tw/a', '/tw/b']);
    events(w).length = 0;
    const aborted = dom0.transactionStart();
    dom0.write('/tw/c', '1', aborted);
    dom0.transactionEnd(aborted, false);
    const failed = dom0.transactionStart();
    dom0.read('/tw/a', failed);
    dom0.write('/tw/d', '1', failed);
    dom0.write('/tw/a', '3');
    expect(errnoOf(() => dom0.transactionEnd(failed, true))).toBe('EAGAIN');
    expect(events(w).map((e) => e.path)).toEqual(['/tw/a']);
  });

  it('a failed operation inside a transaction leaves the transaction usable', () => {
    const { dom0, connect } = setup();
    const guest = connect(2);
    const tx = guest.transactionStart();
    expect(errnoOf(() => guest.write('/not/mine', 'x', tx))).toBe('EACCES');
    guest.transactionEnd(tx, true);
    expect(errnoOf(() => dom0.read('/not'))).toBe('ENOENT');
  });

  it('transaction ids belong to their connection', () => {
    const { dom0, connect } = setup();
    const other = connect(0);
    const tx = other.transactionStart();
    expect(errnoOf(() => dom0.read('/tool', tx))).toBe('ENOENT');
    expect(errnoOf(() => dom0.transactionEnd(tx, true))).toBe('ENOENT');
  });
});

describe('commits, snapshots and replay', () => {
  it('reports one list of mutations per commit, for the journal', () => {
    const commits: Mutation[][] = [];
    const { dom0 } = setup({ onCommit: (m) => commits.push([...m]) });
    dom0.write('/a/b', 'v');
    dom0.read('/a/b');
    dom0.mkdir('/a/b');
    const tx = dom0.transactionStart();
    dom0.write('/c', '1', tx);
    dom0.rm('/a', tx);
    dom0.transactionEnd(tx, true);
    expect(commits).toEqual([
      [
        { op: 'set', path: '/a', value: '', perms: [{ domid: 0, access: 'n' }] },
        { op: 'set', path: '/a/b', value: 'v', perms: [{ domid: 0, access: 'n' }] },
      ],
      [
        { op: 'set', path: '/c', value: '1', perms: [{ domid: 0, access: 'n' }] },
        { op: 'del', path: '/a' },
      ],
    ]);
  });

  it('replaying the mutations or loading a snapshot gives the same tree', () => {
    const commits: Mutation[][] = [];
    const { tree, dom0 } = setup({ onCommit: (m) => commits.push([...m]) });
    dom0.write('/local/domain/1/name', 'g');
    dom0.setPerms('/local/domain/1', [
      { domid: 1, access: 'n' },
      { domid: 2, access: 'r' },
    ]);
    dom0.write('/z', 'last');
    dom0.write('/a', 'after z');
    dom0.rm('/local/domain/1/name');
    const replayed = new XenstoreTree();
    for (const c of commits) replayed.replay(c);
    expect(replayed.snapshot()).toEqual(tree.snapshot());
    const loaded = new XenstoreTree();
    loaded.load(tree.snapshot());
    expect(loaded.snapshot()).toEqual(tree.snapshot());
    expect(loaded.connect().directory('/')).toEqual(['tool', 'local', 'z', 'a']);
  });
});
