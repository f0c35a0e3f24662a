// "Paste as keys": text turned into the key presses a person would make on a US keyboard. The
// console sends physical keys (QEMU's extended key events carry scancodes), and a keysym alone
// reaches QEMU without its Shift: "Paste-OK_$((1+1))" arrived as "paste-ok-4991=100". So each
// character names its key (KeyboardEvent.code, which noVNC turns into the scancode) and whether
// Shift is held, as the guest's US layout expects; the keysym travels along for servers without
// the extension.

export interface KeyStroke {
  /** X keysym of the character (what a server without scancode support types). */
  keysym: number;
  /** The physical key (KeyboardEvent.code), or null where no US key types the character. */
  code: string | null;
  shift: boolean;
}

/** Left Shift, held around shifted characters. */
export const SHIFT_KEY = { keysym: 0xffe1, code: 'ShiftLeft' } as const;

// Unshifted and shifted character of each US-layout key that types one.
const US_KEYS: readonly [code: string, plain: string, shifted: string][] = [
  ['Backquote', '`', '~'],
  ['Digit1', '1', '!'],
  ['Digit2', '2', '@'],
  ['Digit3', '3', '#'],
  ['Digit4', '4', '$'],
  ['Digit5', '5', '%'],
  ['Digit6', '6', '^'],
  ['Digit7', '7', '&'],
  ['Digit8', '8', '*'],
  ['Digit9', '9', '('],
  ['Digit0', '0', ')'],
  ['Minus', '-', '_'],
  ['Equal', '=', '+'],
  ['BracketLeft', '[', '{'],
  ['BracketRight', ']', '}'],
  ['Backslash', '\\', '|'],
  ['Semicolon', ';', ':'],
  ['Quote', "'", '"'],
  ['Comma', ',', '<'],
  ['Period', '.', '>'],
  ['Slash', '/', '?'],
  ['Space', ' ', ' '],
  ...Array.from('abcdefghijklmnopqrstuvwxyz', (c): [string, string, string] => [`Key${c.toUpperCase()}`, c, c.toUpperCase()]),
];

const BY_CHAR = new Map<string, { code: string; shift: boolean }>();
for (const [code, plain, shifted] of US_KEYS) {
  BY_CHAR.set(plain, { code, shift: false });
  if (!BY_CHAR.has(shifted)) BY_CHAR.set(shifted, { code, shift: true });
}
BY_CHAR.set('\n', { code: 'Enter', shift: false });
BY_CHAR.set('\t', { code: 'Tab', shift: false });

function keysymOf(ch: string): number | undefined {
  if (ch === '\n') return 0xff0d;
  if (ch === '\t') return 0xff09;
  const cp = ch.codePointAt(0);
  if (cp === undefined || cp < 0x20 || cp === 0x7f || (cp > 0x7e && cp < 0xa0)) return undefined;
  return cp <= 0xff ? cp : 0x01000000 + cp;
}

/**
 * The strokes that type `text` (CR LF and CR become Enter). Control characters other than
 * newline and tab are left out; characters no US key types go as keysyms only.
 */
export function keyStrokesFor(text: string): KeyStroke[] {
  const out: KeyStroke[] = [];
  for (const ch of text.replace(/\r\n?/g, '\n')) {
    const keysym = keysymOf(ch);
    if (keysym === undefined) continue;
    const key = BY_CHAR.get(ch);
    out.push({ keysym, code: key?.code ?? null, shift: key?.shift ?? false });
  }
  return out;
}
