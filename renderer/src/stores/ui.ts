// Which view the page shows (the manager or one domain), kept in the URL fragment so Back,
// Forward and reload work. The route changes only through navigate() and the hashchange listener.

import { defineStore } from 'pinia';
import { readonly, ref } from 'vue';
import { formatRoute, parseRoute } from '../model/route.js';
import type { DomainTab, HostTab, Route } from '../model/route.js';

export const useUiStore = defineStore('ui', () => {
  const route = ref<Route>({ view: 'manager' });
  let listening = false;

  function setRoute(next: Route): void {
    route.value = next;
  }

  const onHashChange = () => setRoute(parseRoute(window.location.hash));

  /** Follows the address bar from now on. */
  function startRouting(): void {
    setRoute(parseRoute(window.location.hash));
    if (listening) return;
    listening = true;
    window.addEventListener('hashchange', onHashChange);
  }

  function stopRouting(): void {
    if (!listening) return;
    listening = false;
    window.removeEventListener('hashchange', onHashChange);
  }

  /** Shows `next`; `replace` swaps the history entry instead of adding one (tab switches). */
  function navigate(next: Route, { replace = false }: { replace?: boolean } = {}): void {
    setRoute(next);
    if (typeof window === 'undefined') return;
    const hash = formatRoute(next);
    if (window.location.hash === hash) return;
    if (replace) window.history.replaceState(null, '', hash);
    else window.location.hash = hash;
  }

  function openDomain(conn: string, name: string, tab: DomainTab = 'overview'): void {
    navigate({ view: 'domain', conn, name, tab });
  }

  function openHost(conn: string, tab: HostTab = 'storage'): void {
    navigate({ view: 'host', conn, tab });
  }

  function showManager(): void {
    navigate({ view: 'manager' });
  }

  return { route: readonly(route), setRoute, startRouting, stopRouting, navigate, openDomain, openHost, showManager };
});
