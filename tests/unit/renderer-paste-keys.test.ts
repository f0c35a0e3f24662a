// "Paste as keys": which physical key, with or without Shift, types each character on the US
// layout the guest is assumed to use.

import { describe, expect, test } from 'vitest';
import { keyStrokesFor } from '../../renderer/src/model/paste-keys.js';

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

describe('paste as keys', () => {
  test('every printable ASCII character has a key; the shifted ones hold Shift', () => {
    const strokes = keyStrokesFor(PRINTABLE);
    expect(strokes).toHaveLength(95);
    expect(strokes.filter((s) => s.code === null)).toEqual([]);
    const shifted = strokes.filter((s) => s.shift).map((s) => String.fromCharCode(s.keysym)).join('');
    expect(shifted).toBe('!"#$%&()*+:<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ^_{|}~');
  });

  test("the line from the bug report: each character that arrived wrong now holds Shift on the right key", () => {
    const strokes = keyStrokesFor('P_$(+)"~|');
    expect(strokes.map((s) => [s.code, s.shift])).toEqual([
      ['KeyP', true],
      ['Minus', true],
      ['Digit4', true],
      ['Digit9', true],
      ['Equal', true],
      ['Digit0', true],
      ['Quote', true],
      ['Backquote', true],
      ['Backslash', true],
    ]);
    expect(keyStrokesFor("p-4=0'`\\").every((s) => !s.shift)).toBe(true);
  });

  test('line ends become one Enter each; other control characters are dropped; other scripts go as keysyms', () => {
    expect(keyStrokesFor('a\r\nb\rc\nd\te\u0007').map((s) => s.code)).toEqual(['KeyA', 'Enter', 'KeyB', 'Enter', 'KeyC', 'Enter', 'KeyD', 'Tab', 'KeyE']);
    expect(keyStrokesFor('é€')).toEqual([
      { keysym: 0xe9, code: null, shift: false },
      { keysym: 0x010020ac, code: null, shift: false },
    ]);
  });
});
