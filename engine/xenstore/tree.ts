// The registry itself, with the semantics of Xen's xenstored (tools/xenstore/xenstored_core.c,
// _transaction.c, _watch.c): nodes, permissions, quotas, transactions and watches. Pure: no I/O,
// no timers. The daemon feeds it requests per connection and persists what `onCommit` reports.
//
// Every operation runs against a View, a copy-on-write overlay of the store that logs the
// low-level mutations it makes and the generation of every node it looked at. Outside a
// transaction the view commits at once; inside one it lives until TRANSACTION_END, and commit
// succeeds only if no node it looked at changed since the transaction started (Xen's
// generation-count check), else EAGAIN. So a commit is always a list of mutations applied in one
// step: one journal record, then the watch events.

import { Buffer } from 'node:buffer';
import { XenstoreError } from './errors.js';
import {
  INTRODUCE_DOMAIN,
  MAX_PATH_BYTES,
  RELEASE_DOMAIN,
  baseName,
  canonicalPath,
  canonicalWatchPath,
  checkValue,
  domainPath,
  isAtOrBelow,
  isSpecialPath,
  joinPath,
  parentPath,
} from './path.js';
import { MAX_DOMID, owner, rightsOf } from './perms.js';
import type { Permission, Rights } from './perms.js';

/** A change to the store as persisted: everything a commit did, replayable on its own. */
export type Mutation =
  /** Create or replace one node; its parent exists (earlier mutations create parents). */
  | { op: 'set'; path: string; value: string; perms: Permission[] }
  /** Remove a node and everything below it. */
  | { op: 'del'; path: string };

export interface SnapshotEntry {
  path: string;
  value: string;
  perms: Permission[];
}

export interface WatchEvent {
  /** The node that changed (relative to the caller's home when the watch was relative). */
  path: string;
  token: string;
  /** The watch's path as it was registered; tells apart watches sharing a token. */
  watch: string;
}

export interface Quota {
  /** Nodes a guest may own (Xen's quota_nb_entry_per_domain). Dom0 is not limited. */
  nodesPerDomain: number;
  /** Watches a guest connection may hold (quota_nb_watch_per_domain). */
  watchesPerConnection: number;
  /** Open transactions per guest connection (quota_max_transaction). */
  transactionsPerConnection: number;
}

export const DEFAULT_QUOTA: Readonly<Quota> = { nodesPerDomain: 1000, watchesPerConnection: 128, transactionsPerConnection: 10 };

export interface TreeOptions {
  quota?: Partial<Quota>;
  /** Called synchronously with each commit's mutations, after the store changed and before any
   * watch fires: the daemon appends them to the journal here. */
  onCommit?: (mutations: readonly Mutation[]) => void;
}

export interface ConnectOptions {
  /** Who the connection acts as; 0 (dom0, privileged) unless given. */
  domid?: number;
  onWatch?: (event: WatchEvent) => void;
}

interface StoredNode {
  value: string;
  perms: readonly Permission[];
  /** Child names in creation order, which is the order DIRECTORY lists them in. */
  children: readonly string[];
  /** Global generation of the last change to this node (value, perms or child list). */
  gen: number;
}

interface Change {
  path: string;
  /** RM: also fire watches set below `path`. */
  recursive: boolean;
}

const ROOT_PERMS: readonly Permission[] = [{ domid: 0, access: 'n' }];

class Store {
  readonly nodes = new Map<string, StoredNode>();
  #gen = 0;
  #owned = new Map<number, number>();

  constructor() {
    this.reset();
  }

  get generation(): number {
    return this.#gen;
  }

  reset(): void {
    this.nodes.clear();
    this.#owned.clear();
    this.nodes.set('/', { value: '', perms: ROOT_PERMS, children: [], gen: this.#gen });
    this.#count(owner(ROOT_PERMS), 1);
  }

  get(path: string): StoredNode | undefined {
    return this.nodes.get(path);
  }

  ownedBy(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  /** `removed` collects the permissions of deleted nodes, for deciding who may see the event. */
  apply(m: Mutation, removed?: Map<string, readonly Permission[]>): void {
    const gen = ++this.#gen;
    if (m.op === 'set') {
      const existing = this.nodes.get(m.path);
      if (existing) {
        this.#count(owner(existing.perms), -1);
        this.nodes.set(m.path, { ...existing, value: m.value, perms: m.perms, gen });
      } else {
        const parent = this.#parentOf(m.path);
        this.nodes.set(parentPath(m.path), { ...parent, children: [...parent.children, baseName(m.path)], gen });
        this.nodes.set(m.path, { value: m.value, perms: m.perms, children: [], gen });
      }
      this.#count(owner(m.perms), 1);
      return;
    }
    if (m.path === '/') throw new Error('xenstore: refusing to delete the root node');
    const node = this.nodes.get(m.path);
    if (!node) return;
    const parent = this.#parentOf(m.path);
    const name = baseName(m.path);
    this.nodes.set(parentPath(m.path), { ...parent, children: parent.children.filter((c) => c !== name), gen });
    const stack = [m.path];
    for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
      const gone = this.nodes.get(path);
      if (!gone) continue;
      this.nodes.delete(path);
      this.#count(owner(gone.perms), -1);
      removed?.set(path, gone.perms);
      for (const child of gone.children) stack.push(joinPath(path, child));
    }
  }

  /** Pre-order, children in directory order: parents always come before their children. */
  *walk(): Generator<[string, StoredNode]> {
    const stack = ['/'];
    for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
      const node = this.nodes.get(path);
      if (!node) continue;
      yield [path, node];
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(joinPath(path, node.children[i] as string));
    }
  }

  #parentOf(path: string): StoredNode {
    const parent = this.nodes.get(parentPath(path));
    if (!parent) throw new Error(`xenstore: corrupt mutation: parent of ${path} does not exist`);
    return parent;
  }

  #count(domid: number, delta: number): void {
    this.#owned.set(domid, (this.#owned.get(domid) ?? 0) + delta);
  }
}

/** A copy-on-write overlay of the store: what an operation or a transaction sees and changes. */
class View {
  readonly mutations: Mutation[] = [];
  readonly changes: Change[] = [];
  /** null: deleted in this view. */
  #over = new Map<string, StoredNode | null>();
  /** Generation of each store node at first access; -1: it did not exist. */
  #accessed = new Map<string, number>();
  #ownedDelta = new Map<number, number>();

  constructor(
    readonly store: Store,
    readonly startGen: number,
  ) {}

  get(path: string): StoredNode | undefined {
    const over = this.#over.get(path);
    if (over !== undefined) return over ?? undefined;
    const node = this.store.get(path);
    if (!this.#accessed.has(path)) this.#accessed.set(path, node ? node.gen : -1);
    return node;
  }

  ownedBy(domid: number): number {
    return this.store.ownedBy(domid) + (this.#ownedDelta.get(domid) ?? 0);
  }

  set(path: string, value: string, perms: readonly Permission[]): void {
    const existing = this.get(path);
    if (existing) {
      this.#count(owner(existing.perms), -1);
      this.#over.set(path, { ...existing, value, perms });
    } else {
      const parent = this.get(parentPath(path));
      if (!parent) throw new Error(`xenstore: internal error: creating ${path} without its parent`);
      this.#over.set(parentPath(path), { ...parent, children: [...parent.children, baseName(path)] });
      this.#over.set(path, { value, perms, children: [], gen: -1 });
    }
    this.#count(owner(perms), 1);
    this.mutations.push({ op: 'set', path, value, perms: [...perms] });
  }

  del(path: string): void {
    const node = this.get(path);
    if (!node) return;
    const parent = this.get(parentPath(path));
    if (parent) {
      const name = baseName(path);
      this.#over.set(parentPath(path), { ...parent, children: parent.children.filter((c) => c !== name) });
    }
    const stack = [path];
    for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
      const gone = this.get(p);
      if (!gone) continue;
      this.#over.set(p, null);
      this.#count(owner(gone.perms), -1);
      for (const child of gone.children) stack.push(joinPath(p, child));
    }
    this.mutations.push({ op: 'del', path });
  }

  /** True when nothing this view looked at has changed since it started. */
  unchanged(): boolean {
    for (const [path, gen] of this.#accessed) {
      if (gen > this.startGen) return false;
      const now = this.store.get(path);
      if ((now ? now.gen : -1) !== gen) return false;
    }
    return true;
  }

  #count(domid: number, delta: number): void {
    this.#ownedDelta.set(domid, (this.#ownedDelta.get(domid) ?? 0) + delta);
  }
}

interface Watch {
  /** Canonical (absolute or special) path. */
  path: string;
  /** As registered; events for a relative watch are relative too, as in Xen. */
  given: string;
  relative: boolean;
  token: string;
}

function checkDomid(domid: number): void {
  if (!Number.isInteger(domid) || domid < 0 || domid > MAX_DOMID) throw new XenstoreError('EINVAL', `invalid domain id ${domid}`);
}

export class XenstoreTree {
  readonly #store = new Store();
  readonly #quota: Quota;
  readonly #onCommit: ((mutations: readonly Mutation[]) => void) | undefined;
  readonly #connections = new Set<XenstoreConnection>();
  #nextTx = 1;

  constructor(opts: TreeOptions = {}) {
    this.#quota = { ...DEFAULT_QUOTA, ...opts.quota };
    this.#onCommit = opts.onCommit;
    this.#initialNodes();
  }

  /** A session, like one xenstored connection: it has an identity, watches and transactions. */
  connect(opts: ConnectOptions = {}): XenstoreConnection {
    const domid = opts.domid ?? 0;
    checkDomid(domid);
    const conn = new XenstoreConnection(this, domid, opts.onWatch ?? (() => {}));
    this.#connections.add(conn);
    return conn;
  }

  /** Every node, parents first: what a snapshot file holds. */
  snapshot(): SnapshotEntry[] {
    return [...this.#store.walk()].map(([path, node]) => ({ path, value: node.value, perms: [...node.perms] }));
  }

  /** Replaces the whole tree by a snapshot (entries in snapshot() order). Open transactions of
   * every connection will fail to commit. */
  load(entries: readonly SnapshotEntry[]): void {
    this.#store.reset();
    for (const e of entries) this.#store.apply({ op: 'set', path: e.path, value: e.value, perms: e.perms });
  }

  /** Applies journaled mutations: no permission checks, no watches, no onCommit. */
  replay(mutations: readonly Mutation[]): void {
    for (const m of mutations) this.#store.apply(m);
  }

  get nodeCount(): number {
    return this.#store.nodes.size;
  }

  // ---- used by XenstoreConnection only ------------------------------------------------------

  /** @internal */
  _run<T>(conn: XenstoreConnection, tx: number, op: (view: View) => T): T {
    if (tx === 0) {
      const view = new View(this.#store, this.#store.generation);
      const result = op(view);
      this.#commit(view);
      return result;
    }
    const view = conn._transactions.get(tx);
    if (!view) throw new XenstoreError('ENOENT', `no transaction ${tx} on this connection`);
    return op(view);
  }

  /** @internal */
  _startTransaction(conn: XenstoreConnection): number {
    if (conn.domid !== 0 && conn._transactions.size >= this.#quota.transactionsPerConnection) {
      throw new XenstoreError('ENOSPC', `too many open transactions (${this.#quota.transactionsPerConnection})`);
    }
    const id = this.#nextTx++;
    conn._transactions.set(id, new View(this.#store, this.#store.generation));
    return id;
  }

  /** @internal */
  _endTransaction(conn: XenstoreConnection, tx: number, commit: boolean): void {
    const view = conn._transactions.get(tx);
    if (!view) throw new XenstoreError('ENOENT', `no transaction ${tx} on this connection`);
    conn._transactions.delete(tx);
    if (!commit) return;
    if (!view.unchanged()) throw new XenstoreError('EAGAIN', 'transaction conflicts with a concurrent change: run it again');
    this.#commit(view);
  }

  /** @internal */
  _quota(): Readonly<Quota> {
    return this.#quota;
  }

  /** @internal */
  _disconnect(conn: XenstoreConnection): void {
    this.#connections.delete(conn);
  }

  /** @internal Fires a special watch (`@introduceDomain`, `@releaseDomain`) on every connection. */
  _fireSpecial(path: string): void {
    for (const conn of this.#connections) {
      for (const w of conn._watches) if (w.path === path) conn._deliver(w, path);
    }
  }

  // ---- operations ---------------------------------------------------------------------------

  /** @internal Xen's get_node(): the node if the caller has `need` on it; else ENOENT, or EACCES
   * when the caller may not even learn that it is missing (errno_from_parents). */
  _lookup(view: View, domid: number, path: string, need: keyof Rights): StoredNode {
    const node = view.get(path);
    if (node) {
      if (!rightsOf(domid, node.perms)[need]) throw new XenstoreError('EACCES', `permission denied on ${path}`);
      return node;
    }
    if (!this._parentsAllow(view, domid, path, need)) throw new XenstoreError('EACCES', `permission denied on ${path}`);
    throw new XenstoreError('ENOENT', `${path} does not exist`);
  }

  /** @internal Xen's ask_parents(): the caller's rights on the nearest existing ancestor. */
  _parentsAllow(view: View, domid: number, path: string, need: keyof Rights): boolean {
    let p = path;
    let node: StoredNode | undefined;
    do {
      p = parentPath(p);
      node = view.get(p);
    } while (!node && p !== '/');
    return node !== undefined && rightsOf(domid, node.perms)[need];
  }

  /** @internal Creates `path` and any missing parents. New nodes inherit their parent's
   * permissions, except that a guest owns what it creates (Xen's construct_node). */
  _create(view: View, domid: number, path: string, value: string): void {
    const missing = [path];
    let p = parentPath(path);
    let ancestor = view.get(p);
    while (!ancestor) {
      missing.push(p);
      p = parentPath(p);
      ancestor = view.get(p);
    }
    if (!rightsOf(domid, ancestor.perms).write) throw new XenstoreError('EACCES', `permission denied on ${p}`);
    if (domid !== 0 && view.ownedBy(domid) + missing.length > this.#quota.nodesPerDomain) {
      throw new XenstoreError('ENOSPC', `domain ${domid} would own more than ${this.#quota.nodesPerDomain} nodes`);
    }
    let perms = ancestor.perms;
    for (const m of missing.reverse()) {
      if (domid !== 0) perms = [{ domid, access: perms[0]?.access ?? 'n' }, ...perms.slice(1)];
      view.set(m, m === path ? value : '', perms);
    }
  }

  #commit(view: View): void {
    if (view.mutations.length === 0) return;
    const removed = new Map<string, readonly Permission[]>();
    for (const m of view.mutations) this.#store.apply(m, removed);
    this.#onCommit?.(view.mutations);
    const seen = new Set<string>();
    for (const change of view.changes) {
      const key = `${change.recursive ? 'r' : 'n'}${change.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.#fire(change, removed);
    }
  }

  /** Xen's fire_watches(): watches at or above the node, and for RM the watches below it. */
  #fire(change: Change, removed: ReadonlyMap<string, readonly Permission[]>): void {
    for (const conn of this.#connections) {
      for (const w of conn._watches) {
        let path: string;
        if (isSpecialPath(w.path)) continue;
        if (isAtOrBelow(change.path, w.path)) path = change.path;
        else if (change.recursive && isAtOrBelow(w.path, change.path)) path = w.path;
        else continue;
        if (conn.domid !== 0) {
          // Like Xen since XSA-115: a guest hears only of nodes it may read (before removal).
          const perms = this.#store.get(path)?.perms ?? removed.get(path) ?? (change.recursive ? removed.get(change.path) : undefined);
          if (perms && !rightsOf(conn.domid, perms).read) continue;
        }
        conn._deliver(w, path);
      }
    }
  }

  /** What Xen's xenstored creates at start. */
  #initialNodes(): void {
    const view = new View(this.#store, 0);
    view.set('/tool', '', ROOT_PERMS);
    view.set('/tool/xenstored', '', ROOT_PERMS);
    this.replay(view.mutations);
  }
}

/** One client of the registry. Every method may throw XenstoreError; `tx` 0 means none. */
export class XenstoreConnection {
  /** @internal */
  readonly _transactions = new Map<number, View>();
  /** @internal */
  readonly _watches: Watch[] = [];
  #tree: XenstoreTree;
  #domid: number;
  #onWatch: (event: WatchEvent) => void;
  #closed = false;

  /** @internal use XenstoreTree.connect() */
  constructor(tree: XenstoreTree, domid: number, onWatch: (event: WatchEvent) => void) {
    this.#tree = tree;
    this.#domid = domid;
    this.#onWatch = onWatch;
  }

  get domid(): number {
    return this.#domid;
  }

  /** Dom0 may make this connection act as a guest (for xend and tests); a guest may not. */
  actAs(domid: number): void {
    this.#check();
    if (this.#domid !== 0) throw new XenstoreError('EACCES', 'only a dom0 connection may act as another domain');
    checkDomid(domid);
    if (this._transactions.size > 0 || this._watches.length > 0) {
      throw new XenstoreError('EBUSY', 'change identity before starting transactions or watches');
    }
    this.#domid = domid;
  }

  read(path: string, tx = 0): string {
    const abs = this.#path(path);
    return this.#run(tx, (view) => this.#tree._lookup(view, this.#domid, abs, 'read').value);
  }

  write(path: string, value: string, tx = 0): void {
    const abs = this.#path(path);
    checkValue(value);
    this.#run(tx, (view) => {
      const node = view.get(abs);
      if (node) {
        if (!rightsOf(this.#domid, node.perms).write) throw new XenstoreError('EACCES', `permission denied on ${abs}`);
        view.set(abs, value, node.perms);
      } else {
        this.#tree._create(view, this.#domid, abs, value);
      }
      view.changes.push({ path: abs, recursive: false });
    });
  }

  /** Creates an empty node (and parents); an existing node is left as it is. */
  mkdir(path: string, tx = 0): void {
    const abs = this.#path(path);
    this.#run(tx, (view) => {
      const node = view.get(abs);
      if (node) {
        if (!rightsOf(this.#domid, node.perms).write) throw new XenstoreError('EACCES', `permission denied on ${abs}`);
        return;
      }
      this.#tree._create(view, this.#domid, abs, '');
      view.changes.push({ path: abs, recursive: false });
    });
  }

  /** Removes a node and everything below it. A missing node is fine if its parent exists. */
  rm(path: string, tx = 0): void {
    const abs = this.#path(path);
    this.#run(tx, (view) => {
      const node = view.get(abs);
      if (!node) {
        if (!this.#tree._parentsAllow(view, this.#domid, abs, 'write')) throw new XenstoreError('EACCES', `permission denied on ${abs}`);
        if (view.get(parentPath(abs))) return;
        throw new XenstoreError('ENOENT', `${parentPath(abs)} does not exist`);
      }
      if (!rightsOf(this.#domid, node.perms).write) throw new XenstoreError('EACCES', `permission denied on ${abs}`);
      if (abs === '/') throw new XenstoreError('EINVAL', 'the root node cannot be removed');
      view.del(abs);
      view.changes.push({ path: abs, recursive: true });
    });
  }

  /** Child names, in creation order. */
  directory(path: string, tx = 0): string[] {
    const abs = this.#path(path);
    return this.#run(tx, (view) => [...this.#tree._lookup(view, this.#domid, abs, 'read').children]);
  }

  getPerms(path: string, tx = 0): Permission[] {
    const abs = this.#path(path);
    return this.#run(tx, (view) => this.#tree._lookup(view, this.#domid, abs, 'read').perms.map((p) => ({ ...p })));
  }

  setPerms(path: string, perms: readonly Permission[], tx = 0): void {
    const abs = this.#path(path);
    if (perms.length === 0) throw new XenstoreError('EINVAL', 'a permission list needs at least the owner entry');
    for (const p of perms) checkDomid(p.domid);
    this.#run(tx, (view) => {
      const node = this.#tree._lookup(view, this.#domid, abs, 'write');
      if (!rightsOf(this.#domid, node.perms).own) throw new XenstoreError('EACCES', `only the owner or dom0 may change permissions of ${abs}`);
      if (this.#domid !== 0 && owner(perms) !== owner(node.perms)) {
        throw new XenstoreError('EPERM', `only dom0 may give ${abs} to another domain`);
      }
      view.set(abs, node.value, perms.map((p) => ({ ...p })));
      view.changes.push({ path: abs, recursive: false });
    });
  }

  transactionStart(): number {
    this.#check();
    return this.#tree._startTransaction(this);
  }

  /** Commit (throws EAGAIN on conflict; the transaction is over either way) or abort. */
  transactionEnd(tx: number, commit: boolean): void {
    this.#check();
    this.#tree._endTransaction(this, tx, commit);
  }

  /** Fires at once with (path, token), then for every change at or below `path`. */
  watch(path: string, token: string): void {
    this.#check();
    const abs = canonicalWatchPath(path, this.#domid);
    if (Buffer.byteLength(token, 'utf8') > MAX_PATH_BYTES) throw new XenstoreError('E2BIG', 'watch token too long');
    if (this._watches.some((w) => w.path === abs && w.token === token)) {
      throw new XenstoreError('EEXIST', `already watching ${path} with token ${JSON.stringify(token)}`);
    }
    const quota = this.#tree._quota().watchesPerConnection;
    if (this.#domid !== 0 && this._watches.length >= quota) throw new XenstoreError('ENOSPC', `too many watches (${quota})`);
    const watch: Watch = { path: abs, given: path, relative: !path.startsWith('/') && !isSpecialPath(path), token };
    this._watches.push(watch);
    this._deliver(watch, abs);
  }

  unwatch(path: string, token: string): void {
    this.#check();
    const abs = canonicalWatchPath(path, this.#domid);
    const i = this._watches.findIndex((w) => w.path === abs && w.token === token);
    if (i < 0) throw new XenstoreError('ENOENT', `no watch on ${path} with token ${JSON.stringify(token)}`);
    this._watches.splice(i, 1);
  }

  /** xend tells watchers of `@introduceDomain` that a domain appeared. Dom0 only. */
  introduceDomain(domid: number): void {
    this.#special(INTRODUCE_DOMAIN, domid);
  }

  /** ... and of `@releaseDomain` that one is gone. Removes no node: xend does that. */
  releaseDomain(domid: number): void {
    this.#special(RELEASE_DOMAIN, domid);
  }

  /** Drops watches and open transactions (uncommitted changes are lost). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this._transactions.clear();
    this._watches.length = 0;
    this.#tree._disconnect(this);
  }

  /** @internal */
  _deliver(w: Watch, path: string): void {
    let shown = path;
    if (w.relative) {
      const home = `${domainPath(this.#domid)}/`;
      if (path.startsWith(home)) shown = path.slice(home.length);
    }
    this.#onWatch({ path: shown, token: w.token, watch: w.given });
  }

  #special(path: string, domid: number): void {
    this.#check();
    if (this.#domid !== 0) throw new XenstoreError('EACCES', `only dom0 may fire ${path}`);
    checkDomid(domid);
    if (domid === 0) throw new XenstoreError('EINVAL', 'domain 0 is never introduced or released');
    this.#tree._fireSpecial(path);
  }

  #path(path: string): string {
    this.#check();
    return canonicalPath(path, this.#domid);
  }

  #run<T>(tx: number, op: (view: View) => T): T {
    return this.#tree._run(this, tx, op);
  }

  #check(): void {
    if (this.#closed) throw new XenstoreError('EINVAL', 'connection closed');
  }
}
