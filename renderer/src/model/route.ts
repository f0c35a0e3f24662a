// The page's views as URL fragments, so Back/Forward and reloads work in the browser:
//   ''  or '#/'                                   the manager
//   '#/domain/<name>[/<tab>]'                     a domain of the local connection
//   '#/connection/<id>/domain/<name>[/<tab>]'     a domain of another connection
//   '#[/connection/<id>]/host[/<tab>]'            Host details (storage, networks) of a connection

export const LOCAL_CONNECTION_ID = 'local';

export type DomainTab = 'overview' | 'details' | 'performance' | 'config' | 'snapshots' | 'console' | 'serial';
export const DOMAIN_TABS: readonly DomainTab[] = ['overview', 'details', 'performance', 'config', 'snapshots', 'console', 'serial'];

export type HostTab = 'storage' | 'networks';
export const HOST_TABS: readonly HostTab[] = ['storage', 'networks'];

export type Route = { view: 'manager' } | { view: 'domain'; conn: string; name: string; tab: DomainTab } | { view: 'host'; conn: string; tab: HostTab };

function isTab(value: string | undefined): value is DomainTab {
  return value !== undefined && (DOMAIN_TABS as readonly string[]).includes(value);
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const parts = path.split('/').filter((p) => p !== '');
  let conn = LOCAL_CONNECTION_ID;
  let rest = parts;
  if (parts[0] === 'connection' && parts.length >= 2) {
    const id = decode(parts[1]!);
    if (id === undefined || id === '') return { view: 'manager' };
    conn = id;
    rest = parts.slice(2);
  }
  if (rest[0] === 'domain' && rest.length >= 2 && rest.length <= 3) {
    const name = decode(rest[1]!);
    if (name === undefined || name === '') return { view: 'manager' };
    const tab = rest[2];
    if (tab !== undefined && !isTab(tab)) return { view: 'manager' };
    return { view: 'domain', conn, name, tab: tab ?? 'overview' };
  }
  if (rest[0] === 'host' && rest.length <= 2) {
    const tab = rest[1] ?? 'storage';
    if (!(HOST_TABS as readonly string[]).includes(tab)) return { view: 'manager' };
    return { view: 'host', conn, tab: tab as HostTab };
  }
  return { view: 'manager' };
}

export function formatRoute(route: Route): string {
  if (route.view === 'manager') return '#/';
  const prefix = route.conn === LOCAL_CONNECTION_ID ? '' : `/connection/${encodeURIComponent(route.conn)}`;
  if (route.view === 'host') return `#${prefix}/host${route.tab === 'storage' ? '' : `/${route.tab}`}`;
  const tab = route.tab === 'overview' ? '' : `/${route.tab}`;
  return `#${prefix}/domain/${encodeURIComponent(route.name)}${tab}`;
}
