// The pure parts of the xenstore-* commands: Xen-style option parsing and xsls value escaping.
// (tests/integration/xenstore-daemon.test.ts runs the commands themselves.)

import { describe, expect, it } from 'vitest';
import { UsageError, parseCliArgs, sanitiseValue } from '../../engine/xenstore/cli-common.js';
import type { CliSpec } from '../../engine/xenstore/cli-common.js';

const spec: CliSpec = { name: 'xenstore-test', usage: '', description: '', flags: 'fp', valueOptions: 'n', minArgs: 1, maxArgs: 2 };

describe('parseCliArgs', () => {
  it('takes bundled flags, option values attached or separate, and --domid', () => {
    const a = parseCliArgs(spec, ['-fp', '-n', '3', '--domid', '5', '/x']);
    expect([...a.flags].sort()).toEqual(['f', 'p']);
    expect(a.values.get('n')).toBe('3');
    expect(a.domid).toBe(5);
    expect(a.args).toEqual(['/x']);
    expect(parseCliArgs(spec, ['-n7', '--domid=0', '/y']).values.get('n')).toBe('7');
  });

  it('treats everything after the first key (or --) as keys and values, even with a dash', () => {
    expect(parseCliArgs(spec, ['/k', '-1']).args).toEqual(['/k', '-1']);
    expect(parseCliArgs(spec, ['--', '-p']).args).toEqual(['-p']);
  });

  it.each([[['-x', '/k']], [[]], [['/a', '/b', '/c']], [['-n']], [['--domid', 'x', '/k']]])('refuses %j', (argv) => {
    expect(() => parseCliArgs(spec, argv)).toThrow(UsageError);
  });

  it('-h and --help win over missing arguments', () => {
    expect(parseCliArgs(spec, ['--help']).help).toBe(true);
    expect(parseCliArgs(spec, ['-h']).help).toBe(true);
  });
});

describe('sanitiseValue (xsls)', () => {
  it.each([
    ['plain', 'plain'],
    ['with "quotes"', 'with "quotes"'],
    ['back\\slash', 'back\\\\slash'],
    ['tab\tnl\ncr\r', 'tab\\tnl\\ncr\\r'],
    ['\u0001\u007f', '\\001\\177'],
    ['é', '\\303\\251'],
  ])('%j → %s', (value, shown) => {
    expect(sanitiseValue(value)).toBe(shown);
  });
});
