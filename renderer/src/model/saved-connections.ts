// Remote connections the user added, kept in localStorage so they come back with the app.

export const SAVED_CONNECTIONS_KEY = 'dom0.connections';

export interface SavedConnection {
  id: string;
  name: string;
  url: string;
  token: string;
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function storage(): Store | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function loadSavedConnections(store: Store | undefined = storage()): SavedConnection[] {
  const text = store?.getItem(SAVED_CONNECTIONS_KEY);
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (c): c is SavedConnection =>
        typeof c === 'object' &&
        c !== null &&
        typeof c.id === 'string' &&
        typeof c.name === 'string' &&
        typeof c.url === 'string' &&
        typeof c.token === 'string',
    );
  } catch {
    return [];
  }
}

export function saveConnections(list: readonly SavedConnection[], store: Store | undefined = storage()): void {
  try {
    store?.setItem(SAVED_CONNECTIONS_KEY, JSON.stringify(list));
  } catch {
    // Storage full or disabled: the connection works for this session only.
  }
}
