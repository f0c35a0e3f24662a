// What a domain's status means to a user, and which actions each status allows. Pure: the
// manager's toolbar, its context menu and the tests read the same rules.
//
//   status     label           Run  Pause  Resume  Reboot/Shut Down/Force Reset  Force Off  Delete
//   halted     Shut off         ✓                                                             ✓
//   running    Running               ✓              ✓                              ✓          ✓
//   paused     Paused                       ✓                                     ✓          ✓
//   shutdown   Shutting down                                                       ✓          ✓
//   crashed    Crashed                                                             ✓          ✓
//   dying      Dying
//
// Domain-0 (the host, domid 0) allows nothing. Open needs exactly one domain, Delete too (its
// dialog lists that domain's disks); the others apply to every selected domain that allows them.

import type { DomainRow } from '../api/types.js';

export type DomainStatus = DomainRow['status'];

export type DomainAction = 'open' | 'run' | 'pause' | 'resume' | 'reboot' | 'shutdown' | 'reset' | 'destroy' | 'delete';

/** The visible (and accessible) names: the toolbar and the context menu use the same ones. */
export const ACTION_LABELS: Readonly<Record<DomainAction, string>> = {
  open: 'Open',
  run: 'Run',
  pause: 'Pause',
  resume: 'Resume',
  reboot: 'Reboot',
  shutdown: 'Shut Down',
  reset: 'Force Reset',
  destroy: 'Force Off',
  delete: 'Delete',
};

/** The items of the "Shut Down" menu, in virt-manager's order. */
export const SHUTDOWN_ACTIONS: readonly DomainAction[] = ['reboot', 'shutdown', 'reset', 'destroy'];

const STATUS_LABELS: Readonly<Record<DomainStatus, string>> = {
  running: 'Running',
  paused: 'Paused',
  shutdown: 'Shutting down',
  crashed: 'Crashed',
  dying: 'Dying',
  halted: 'Shut off',
};

/** Sort order of the State column: live domains first. */
const STATUS_RANK: Readonly<Record<DomainStatus, number>> = {
  running: 0,
  paused: 1,
  shutdown: 2,
  crashed: 3,
  dying: 4,
  halted: 5,
};

export function statusLabel(status: DomainStatus): string {
  return STATUS_LABELS[status] ?? status;
}

export function statusRank(status: DomainStatus): number {
  return STATUS_RANK[status] ?? 99;
}

const ALLOWED: Readonly<Record<Exclude<DomainAction, 'open'>, readonly DomainStatus[]>> = {
  run: ['halted'],
  pause: ['running'],
  resume: ['paused'],
  reboot: ['running'],
  shutdown: ['running'],
  reset: ['running'],
  destroy: ['running', 'paused', 'crashed', 'shutdown'],
  delete: ['halted', 'running', 'paused', 'crashed', 'shutdown'],
};

export interface ActionTarget {
  row: Pick<DomainRow, 'name' | 'status' | 'domid'>;
  /** Whether the domain's connection is up: nothing can be asked of an engine that is gone. */
  connected: boolean;
}

export function isPrivileged(row: Pick<DomainRow, 'name' | 'domid'>): boolean {
  return row.domid === 0 || row.name === 'Domain-0';
}

/** Whether `action` may be asked of this one domain. */
export function allows(action: DomainAction, target: ActionTarget): boolean {
  if (!target.connected || isPrivileged(target.row)) return false;
  if (action === 'open') return true;
  return ALLOWED[action].includes(target.row.status);
}

export type Availability = Readonly<Record<DomainAction, boolean>> & { shutdownMenu: boolean };

/** Which toolbar buttons and menu items are enabled for the selected domains. */
export function availability(selected: readonly ActionTarget[]): Availability {
  const any = (action: DomainAction) => selected.some((t) => allows(action, t));
  const single = (action: DomainAction) => selected.length === 1 && allows(action, selected[0]!);
  const result = {
    open: single('open'),
    run: any('run'),
    pause: any('pause'),
    resume: any('resume'),
    reboot: any('reboot'),
    shutdown: any('shutdown'),
    reset: any('reset'),
    destroy: any('destroy'),
    delete: single('delete'),
  };
  return { ...result, shutdownMenu: SHUTDOWN_ACTIONS.some((a) => result[a]) };
}

/** The selected domains an action applies to (the others are skipped, not failed). */
export function targetsOf<T extends ActionTarget>(action: DomainAction, selected: readonly T[]): T[] {
  return selected.filter((t) => allows(action, t));
}

/** Force Off and Force Reset ask first: the question, the explanation and the confirm button's label. */
export function forcedActionQuestion(action: 'destroy' | 'reset', names: readonly string[]): { title: string; message: string; label: string } {
  const who = names.length === 1 ? names[0]! : `${names.length} domains`;
  const subject = names.length === 1 ? who : 'They';
  if (action === 'destroy') {
    return {
      title: `Force off ${who}?`,
      message: `${subject} will stop at once, like pulling the power cord: anything the guest has not saved is lost.`,
      label: ACTION_LABELS.destroy,
    };
  }
  return {
    title: `Force reset ${who}?`,
    message: `${subject} will restart at once, like pressing the reset button: anything the guest has not saved is lost.`,
    label: ACTION_LABELS.reset,
  };
}
