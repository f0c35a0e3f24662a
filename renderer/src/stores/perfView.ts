// What the user chose to see of the live figures: the manager list's graph columns (guest CPU by
// default; host CPU, memory, disk and network I/O on request, from the View menu), whether the
// Host overview shows, and whether the Performance preferences dialog is open. The columns are
// remembered in localStorage.

import { defineStore } from 'pinia';
import { ref } from 'vue';

export type GraphColumn = 'guestCpu' | 'hostCpu' | 'memory' | 'disk' | 'network';
export const GRAPH_COLUMNS: readonly GraphColumn[] = ['guestCpu', 'hostCpu', 'memory', 'disk', 'network'];
export const GRAPH_LABELS: Record<GraphColumn, string> = {
  guestCpu: 'CPU usage',
  hostCpu: 'Host CPU usage',
  memory: 'Memory usage',
  disk: 'Disk I/O',
  network: 'Network I/O',
};

const KEY = 'dom0.graphColumns';
const DEFAULT: readonly GraphColumn[] = ['guestCpu'];

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

function load(): GraphColumn[] {
  try {
    const saved = JSON.parse(storage()?.getItem(KEY) ?? 'null') as unknown;
    if (Array.isArray(saved)) return GRAPH_COLUMNS.filter((c) => saved.includes(c));
  } catch {
    // unreadable: the default
  }
  return [...DEFAULT];
}

export const usePerfViewStore = defineStore('perfView', () => {
  const columns = ref<GraphColumn[]>(load());
  const hostOverview = ref(false);
  const preferencesOpen = ref(false);

  function shows(column: GraphColumn): boolean {
    return columns.value.includes(column);
  }

  function toggleColumn(column: GraphColumn): void {
    columns.value = shows(column) ? columns.value.filter((c) => c !== column) : GRAPH_COLUMNS.filter((c) => c === column || columns.value.includes(c));
    try {
      storage()?.setItem(KEY, JSON.stringify(columns.value));
    } catch {
      // not kept: still shown for this session
    }
  }

  function setHostOverview(on: boolean): void {
    hostOverview.value = on;
  }

  function setPreferencesOpen(on: boolean): void {
    preferencesOpen.value = on;
  }

  return { columns, hostOverview, preferencesOpen, shows, toggleColumn, setHostOverview, setPreferencesOpen };
});
