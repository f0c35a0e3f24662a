import { describe, expect, test } from 'vitest';
import { formatSnapshotTree } from '../../engine/cli/xm/lifecycle.js';

const at = Date.UTC(2026, 10, 28, 16, 0, 0);

describe('xm snapshot-list', () => {
  test('prints the tree indented under parents, with time, state and the current one starred', () => {
    const text = formatSnapshotTree([
      { name: 'base', description: 'fresh install', createdAt: at, state: 'shutoff', current: false, vmStateSize: 0 },
      { name: 'a', description: '', createdAt: at + 60_000, state: 'running', parent: 'base', current: false, vmStateSize: 1 },
      { name: 'b', description: 'try', createdAt: at + 120_000, state: 'paused', parent: 'a', current: true, vmStateSize: 1 },
      { name: 'c', description: '', createdAt: at + 180_000, state: 'running', parent: 'gone', current: false, vmStateSize: 1 },
    ]);
    expect(text).toBe(
      [
        'Name        Creation Time (UTC)  State     Description',
        'base        2026-11-28 16:00:00  shutoff   fresh install',
        '  `- a      2026-11-28 16:01:00  running',
        '    `- b *  2026-11-28 16:02:00  paused    try',
        'c           2026-11-28 16:03:00  running',
        '',
      ].join('\n'),
    );
  });
});
