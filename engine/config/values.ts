// The raw, untyped result of parsing an xm file: names bound to Python-literal values. Nothing here
// knows what `memory` means; that is validate.ts's job.

/**
 * A Python float. Plain JS numbers in an XmValue are always Python ints, so `1.0` stays a float
 * through parse → serialize → parse instead of collapsing into the int `1`.
 */
export class XmFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export type XmValue = string | number | boolean | null | XmFloat | XmValue[];

export interface XmAssignment {
  key: string;
  value: XmValue;
  /** 1-based position of the key (for command-line overrides: line 1, col of the argument). */
  line: number;
  col: number;
  /**
   * Only for command-line overrides: the text after `=` exactly as typed. xm treats `name=0x10`
   * as the name "0x10", so string-valued keys prefer this over the literal's parsed value.
   */
  source?: string;
}

export interface XmFile {
  file: string;
  /** Every assignment in file order, repeats included; for a repeated key the last one counts. */
  assignments: XmAssignment[];
  /** Names the file's expressions read or its xm_vars lines declare (for `vmid`-style arguments). */
  references?: string[];
}

/** The value of `key` as Python would see it after running the file: the last assignment wins. */
export function xmLookup(file: XmFile, key: string): XmAssignment | undefined {
  for (let i = file.assignments.length - 1; i >= 0; i--) {
    const a = file.assignments[i];
    if (a !== undefined && a.key === key) return a;
  }
  return undefined;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/**
 * A double-quoted Python string literal that our parser (and Python 3) reads back as exactly `s`.
 * Printable non-ASCII stays readable; control characters and lone surrogates (which cannot be
 * written as UTF-8) are escaped. Carriage returns are always escaped because line endings in the
 * file are normalised on reading.
 */
export function formatXmString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\x${hex(code, 2)}`;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += ch + (s[i + 1] as string);
        i++;
      } else {
        out += `\\u${hex(code, 4)}`;
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) out += `\\u${hex(code, 4)}`;
    else out += ch;
  }
  return out + '"';
}

/** Python's repr of a float, close enough that it always reads back as the same float. */
export function formatXmFloat(v: number): string {
  // 1e999 overflows to inf in Python too: the only literal spelling of infinity.
  if (v === Infinity) return '1e999';
  if (v === -Infinity) return '-1e999';
  if (Number.isNaN(v)) throw new RangeError('NaN has no xm literal');
  const s = Object.is(v, -0) ? '-0' : String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

export interface FormatOptions {
  /** Break lists longer than this many characters onto one item per line. */
  width?: number;
  indent?: string;
}

/** An XmValue as Python literal text. */
export function formatXmValue(v: XmValue, opts: FormatOptions = {}): string {
  if (typeof v === 'string') return formatXmString(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not an int an xm file can hold`);
    return Object.is(v, -0) ? '0' : String(v);
  }
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null) return 'None';
  if (v instanceof XmFloat) return formatXmFloat(v.value);
  const items = v.map((x) => formatXmValue(x, { ...opts, indent: `${opts.indent ?? ''}    ` }));
  if (items.length === 0) return '[]';
  const oneLine = `[ ${items.join(', ')} ]`;
  const fits = opts.width === undefined || oneLine.length <= opts.width;
  if (fits && !items.some((x) => x.includes('\n'))) return oneLine;
  const inner = `${opts.indent ?? ''}    `;
  return `[\n${items.map((x) => `${inner}${x},\n`).join('')}${opts.indent ?? ''}]`;
}

/** Deep copy, so that a name substituted into two places does not share one mutable list. */
export function cloneXmValue(v: XmValue): XmValue {
  return Array.isArray(v) ? v.map(cloneXmValue) : v;
}
