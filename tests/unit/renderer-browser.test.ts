// @vitest-environment happy-dom
// The renderer's browser side in a DOM: the local endpoint in web mode (token taken from the
// address bar, kept for a reload), the hash routes, and the focus rules dialogs rely on.

import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropLocalToken, hasLocalToken, localEndpoint, MissingTokenError, runtime, setTypedToken, TOKEN_STORAGE_KEY } from '../../renderer/src/api/endpoint.js';
import { focusInitial, restoreFocus, trapTab } from '../../renderer/src/composables/focus.js';
import { useUiStore } from '../../renderer/src/stores/ui.js';

function goTo(url: string): void {
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(url);
}

beforeEach(() => {
  sessionStorage.clear();
  dropLocalToken();
  document.body.innerHTML = '';
});

describe('web mode endpoint', () => {
  it('is the browser runtime without the Electron bridge', () => {
    expect(runtime()).toBe('browser');
  });

  it('connects to /engine on the serving host with the fragment’s token, and clears the address bar', async () => {
    goTo('http://127.0.0.1:8800/#token=0123456789abcdef0123');
    expect(await localEndpoint()).toEqual({ url: 'ws://127.0.0.1:8800/engine', token: '0123456789abcdef0123' });
    expect(window.location.href).toBe('http://127.0.0.1:8800/');
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBe('0123456789abcdef0123');
  });

  it('still has the token after a reload of the cleaned address', async () => {
    goTo('http://127.0.0.1:8800/#token=0123456789abcdef0123');
    await localEndpoint();
    goTo('http://127.0.0.1:8800/');
    expect(hasLocalToken()).toBe(true);
    expect((await localEndpoint()).token).toBe('0123456789abcdef0123');
  });

  it('asks for a token when there is none, and uses the one typed in', async () => {
    goTo('http://127.0.0.1:8800/');
    expect(hasLocalToken()).toBe(false);
    await expect(localEndpoint()).rejects.toBeInstanceOf(MissingTokenError);
    setTypedToken('typed-token-0123456789');
    expect((await localEndpoint()).token).toBe('typed-token-0123456789');
  });

  it('forgets a refused token, so a reload asks again', () => {
    goTo('http://127.0.0.1:8800/#token=wrong-token-0123456789');
    expect(hasLocalToken()).toBe(true);
    dropLocalToken();
    expect(sessionStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(hasLocalToken()).toBe(false);
  });
});

describe('routes in the address bar', () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => useUiStore().stopRouting());

  it('opens a domain as #/domain/<name>, and Back returns to the manager', async () => {
    goTo('http://127.0.0.1:8800/');
    const ui = useUiStore();
    ui.startRouting();
    ui.openDomain('local', 'vm 1');
    expect(window.location.hash).toBe('#/domain/vm%201');
    expect(ui.route).toEqual({ view: 'domain', conn: 'local', name: 'vm 1', tab: 'overview' });
    ui.navigate({ view: 'domain', conn: 'local', name: 'vm 1', tab: 'details' }, { replace: true });
    expect(window.location.hash).toBe('#/domain/vm%201/details');
    ui.showManager();
    expect(ui.route).toEqual({ view: 'manager' });
  });

  it('follows a hash typed or restored by the browser', () => {
    goTo('http://127.0.0.1:8800/#/domain/web/config');
    const ui = useUiStore();
    ui.startRouting();
    expect(ui.route).toEqual({ view: 'domain', conn: 'local', name: 'web', tab: 'config' });
    window.location.hash = '#/';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(ui.route).toEqual({ view: 'manager' });
  });
});

describe('dialog focus', () => {
  function dialog(): HTMLElement {
    document.body.innerHTML = `
      <button id="opener">Delete</button>
      <div id="dialog" tabindex="-1">
        <input id="first" type="checkbox">
        <button id="cancel" data-autofocus>Cancel</button>
        <button id="disabled" disabled>Nope</button>
        <button id="last">Delete</button>
      </div>`;
    return document.getElementById('dialog')!;
  }

  function tab(root: HTMLElement, shiftKey = false): boolean {
    const event = new KeyboardEvent('keydown', { key: 'Tab', shiftKey, cancelable: true });
    trapTab(event, root);
    return event.defaultPrevented;
  }

  it('starts on the element marked data-autofocus (Cancel, for destructive dialogs)', () => {
    const root = dialog();
    focusInitial(root);
    expect(document.activeElement?.id).toBe('cancel');
  });

  it('wraps Tab from the last control to the first and Shift+Tab back, skipping disabled ones', () => {
    const root = dialog();
    document.getElementById('last')!.focus();
    expect(tab(root)).toBe(true);
    expect(document.activeElement?.id).toBe('first');
    expect(tab(root, true)).toBe(true);
    expect(document.activeElement?.id).toBe('last');
    document.getElementById('cancel')!.focus();
    expect(tab(root)).toBe(false); // the browser moves on inside the dialog
  });

  it('puts focus back on the opener, unless it is gone', () => {
    dialog();
    const opener = document.getElementById('opener')!;
    expect(restoreFocus(opener)).toBe(true);
    expect(document.activeElement).toBe(opener);
    opener.remove();
    expect(restoreFocus(opener)).toBe(false);
  });
});
