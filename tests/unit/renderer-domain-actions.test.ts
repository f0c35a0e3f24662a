// Which toolbar buttons and menu items a selection enables: the rules of model/domain-state.ts,
// state by state, for one domain and for several.

import { describe, expect, it } from 'vitest';
import { ACTION_LABELS, availability, statusLabel, targetsOf } from '../../renderer/src/model/domain-state.js';
import type { ActionTarget, DomainAction, DomainStatus } from '../../renderer/src/model/domain-state.js';

function target(name: string, status: DomainStatus, over: { domid?: number; connected?: boolean } = {}): ActionTarget {
  return { row: { name, status, domid: over.domid ?? (status === 'halted' ? undefined : 5) }, connected: over.connected ?? true };
}

const ALL: DomainAction[] = ['open', 'run', 'pause', 'resume', 'reboot', 'shutdown', 'reset', 'destroy', 'delete'];

function enabled(selected: ActionTarget[]): DomainAction[] {
  const a = availability(selected);
  return ALL.filter((action) => a[action]);
}

describe('domain actions per state', () => {
  it.each<[DomainStatus, DomainAction[]]>([
    ['halted', ['open', 'run', 'delete']],
    ['running', ['open', 'pause', 'reboot', 'shutdown', 'reset', 'destroy', 'delete']],
    ['paused', ['open', 'resume', 'destroy', 'delete']],
    ['shutdown', ['open', 'destroy', 'delete']],
    ['crashed', ['open', 'destroy', 'delete']],
    ['dying', ['open']],
  ])('a %s domain enables %j', (status, expected) => {
    expect(enabled([target('vm1', status)])).toEqual(expected);
  });

  it('enables the Shut Down menu only when one of its items is enabled', () => {
    expect(availability([target('a', 'running')]).shutdownMenu).toBe(true);
    expect(availability([target('a', 'paused')]).shutdownMenu).toBe(true); // Force Off
    expect(availability([target('a', 'halted')]).shutdownMenu).toBe(false);
  });

  it('enables nothing for Domain-0, the host', () => {
    expect(enabled([target('Domain-0', 'running', { domid: 0 })])).toEqual([]);
  });

  it('enables nothing while the domain’s connection is down', () => {
    expect(enabled([target('vm1', 'running', { connected: false })])).toEqual([]);
  });

  it('enables nothing without a selection', () => {
    expect(enabled([])).toEqual([]);
    expect(availability([]).shutdownMenu).toBe(false);
  });

  it('with several domains, enables what any of them allows, but Open and Delete need exactly one', () => {
    const selection = [target('a', 'running'), target('b', 'halted'), target('c', 'paused')];
    expect(enabled(selection)).toEqual(['run', 'pause', 'resume', 'reboot', 'shutdown', 'reset', 'destroy']);
  });

  it('applies an action to the selected domains that allow it and skips the others', () => {
    const selection = [target('a', 'running'), target('b', 'halted'), target('c', 'running'), target('d', 'paused')];
    expect(targetsOf('pause', selection).map((t) => t.row.name)).toEqual(['a', 'c']);
    expect(targetsOf('destroy', selection).map((t) => t.row.name)).toEqual(['a', 'c', 'd']);
    expect(targetsOf('run', selection).map((t) => t.row.name)).toEqual(['b']);
  });

  it('names actions as virt-manager does, and states in words', () => {
    expect(ALL.map((a) => ACTION_LABELS[a])).toEqual(['Open', 'Run', 'Pause', 'Resume', 'Reboot', 'Shut Down', 'Force Reset', 'Force Off', 'Delete']);
    expect(['running', 'paused', 'halted', 'crashed', 'shutdown'].map((s) => statusLabel(s as DomainStatus))).toEqual([
      'Running',
      'Paused',
      'Shut off',
      'Crashed',
      'Shutting down',
    ]);
  });
});
