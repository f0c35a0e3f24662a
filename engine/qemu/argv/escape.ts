// QEMU parses most option values as comma-separated key=value lists, so a comma inside a value
// would start a new, attacker-chosen key (`name = "x,debug-threads=off"` or a disk path
// `/img/a,b=c`). QEMU's own escape is a doubled comma. Control characters never belong in any
// value we pass (they would at best corrupt logs), so they are refused outright rather than escaped.

import { UnsafeValueError } from '../errors.js';

/** Escape one value for a QEMU `key=value,...` option. */
export function optValue(value: string, what: string): string {
  assertPrintable(value, what);
  return value.replaceAll(',', ',,');
}

/** A value passed as its own argv element (e.g. `-kernel PATH`): no escaping applies, but still no control characters. */
export function rawValue(value: string, what: string): string {
  assertPrintable(value, what);
  return value;
}

/** Build `key=value,key=value` from ordered pairs, escaping every value. Undefined values are skipped. */
export function optList(pairs: ReadonlyArray<readonly [string, string | number | boolean | undefined]>, what: string): string {
  const parts: string[] = [];
  for (const [key, value] of pairs) {
    if (value === undefined) continue;
    const text = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
    parts.push(`${key}=${optValue(text, `${what} ${key}`)}`);
  }
  return parts.join(',');
}

function assertPrintable(value: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new UnsafeValueError(`${what} contains a control character (newline, tab or NUL); remove it from the config`);
  }
}
