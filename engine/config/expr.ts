// The arithmetic of xm config files. Xen ran them as Python 2, and its own examples compute values
// (`name = "VM%d" % vmid`, `'/usr/' + arch_libdir + '/xen/bin/qemu-dm'`). These are the pure
// operators over values, with Python 2's results: nothing here can reach a name, a function or
// the host. Each function returns the result or a sentence saying why Python would refuse it.

import { XmFloat, type XmValue } from './values.js';

export type Outcome = { ok: true; value: XmValue } | { ok: false; reason: string };

/** A parenthesised tuple, which `%` spreads over its conversions (a list is one argument). */
export interface Operand {
  value: XmValue;
  tuple: boolean;
}

const ok = (value: XmValue): Outcome => ({ ok: true, value });
const no = (reason: string): Outcome => ({ ok: false, reason });

/** Python's type name, as its TypeError messages say it. */
export function typeName(v: XmValue): string {
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (v === null) return 'NoneType';
  if (v instanceof XmFloat) return 'float';
  return 'list';
}

/** ints (bools count as ints, as in Python) and floats; undefined for anything else. */
function num(v: XmValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof XmFloat) return v.value;
  return undefined;
}

const isFloat = (v: XmValue): boolean => v instanceof XmFloat;

function intResult(n: number): Outcome {
  if (!Number.isSafeInteger(n)) return no(`the result ${n} is too large (the limit is ${Number.MAX_SAFE_INTEGER})`);
  return ok(n === 0 ? 0 : n);
}

function floatResult(n: number): Outcome {
  // Python floats overflow to inf as these do.
  return ok(new XmFloat(n));
}

function arith(a: XmValue, b: XmValue, op: string, f: (x: number, y: number) => number): Outcome {
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) {
    return no(`unsupported operand types for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  }
  const r = f(x, y);
  return isFloat(a) || isFloat(b) ? floatResult(r) : intResult(r);
}

function repeat(seq: string | XmValue[], times: XmValue, limit: number): Outcome {
  const n = num(times);
  if (n === undefined || isFloat(times)) return no(`can't multiply sequence by non-int of type '${typeName(times)}'`);
  const count = Math.max(0, n);
  if (seq.length * count > limit) return no('the repeated value is larger than a domain config can be');
  if (typeof seq === 'string') return ok(seq.repeat(count));
  const out: XmValue[] = [];
  for (let i = 0; i < count; i++) out.push(...seq);
  return ok(out);
}

export function add(a: XmValue, b: XmValue): Outcome {
  if (typeof a === 'string' && typeof b === 'string') return ok(a + b);
  if (Array.isArray(a) && Array.isArray(b)) return ok([...a, ...b]);
  if (typeof a === 'string' || typeof b === 'string') {
    return no(`cannot add '${typeName(a)}' and '${typeName(b)}'; to put a number into a string write "text%d" % n`);
  }
  return arith(a, b, '+', (x, y) => x + y);
}

export function subtract(a: XmValue, b: XmValue): Outcome {
  return arith(a, b, '-', (x, y) => x - y);
}

export function multiply(a: XmValue, b: XmValue, limit: number): Outcome {
  if (typeof a === 'string' || Array.isArray(a)) return repeat(a, b, limit);
  if (typeof b === 'string' || Array.isArray(b)) return repeat(b, a, limit);
  return arith(a, b, '*', (x, y) => x * y);
}

/** `/`: Python 2, which xm ran, floors when both sides are ints. */
export function divide(a: XmValue, b: XmValue, op: '/' | '//'): Outcome {
  const y = num(b);
  if (y === 0) return no(op === '/' ? 'division by zero' : 'integer division by zero');
  const floor = op === '//' || (!isFloat(a) && !isFloat(b));
  return arith(a, b, op, (x, d) => (floor ? Math.floor(x / d) : x / d));
}

export function power(a: XmValue, b: XmValue): Outcome {
  const y = num(b);
  if (y !== undefined && y < 0 && !isFloat(a) && !isFloat(b) && num(a) !== undefined) {
    return floatResult(Math.pow(num(a) as number, y));
  }
  return arith(a, b, '**', (x, e) => Math.pow(x, e));
}

export function negate(a: XmValue, op: '-' | '+'): Outcome {
  const x = num(a);
  if (x === undefined) return no(`bad operand type for unary ${op}: '${typeName(a)}'`);
  if (isFloat(a)) return floatResult(op === '-' ? -x : x);
  return intResult(op === '-' ? -x : x);
}

/** `a % b`: remainder for numbers (sign of the divisor, as Python), formatting for strings. */
export function modulo(a: Operand, b: Operand, limit: number): Outcome {
  if (typeof a.value === 'string') return format(a.value, b, limit);
  const y = num(b.value);
  if (y === 0) return no('modulo by zero');
  return arith(a.value, b.value, '%', (x, d) => x - d * Math.floor(x / d));
}

/** Python's str() of a value. */
export function pyStr(v: XmValue): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

/** Python's repr() of a value (strings in single quotes, as Python prints them). */
export function pyRepr(v: XmValue): string {
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null) return 'None';
  if (typeof v === 'number') return String(v);
  if (v instanceof XmFloat) return floatRepr(v.value);
  return `[${v.map(pyRepr).join(', ')}]`;
}

function floatRepr(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return String(x).replace(/e\+?(-?)(\d)$/, 'e$1$2').replace(/e(-?)(\d)$/, 'e$10$2');
}

// %[flags][width][.precision][length]type, as Python 2's str % operator reads it.
const SPEC = /%(\([^)]*\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)?/y;

function pad(body: string, width: number, flags: string, numeric: boolean): string {
  if (body.length >= width) return body;
  if (flags.includes('-')) return body.padEnd(width);
  if (flags.includes('0') && numeric) {
    const sign = /^[-+ ]/.test(body) ? body.slice(0, 1) : '';
    const rest = sign ? body.slice(1) : body;
    const prefix = /^0[xXo]/.test(rest) && flags.includes('#') ? rest.slice(0, 2) : '';
    return sign + prefix + rest.slice(prefix.length).padStart(width - sign.length - prefix.length, '0');
  }
  return body.padStart(width);
}

function signed(n: number, body: string, flags: string): string {
  if (n < 0 || Object.is(n, -0)) return body;
  if (flags.includes('+')) return `+${body}`;
  if (flags.includes(' ')) return ` ${body}`;
  return body;
}

function convert(type: string, v: XmValue, flags: string, precision: number | undefined): { ok: true; s: string; numeric: boolean } | { ok: false; reason: string } {
  if (type === 's' || type === 'r') {
    const s = type === 's' ? pyStr(v) : pyRepr(v);
    return { ok: true, s: precision === undefined ? s : s.slice(0, precision), numeric: false };
  }
  if (type === 'c') {
    if (typeof v === 'string' && [...v].length === 1) return { ok: true, s: v, numeric: false };
    const n = num(v);
    if (n !== undefined && !isFloat(v) && n >= 0 && n <= 0x10ffff) return { ok: true, s: String.fromCodePoint(n), numeric: false };
    return { ok: false, reason: '%c requires an int or a single character' };
  }
  const n = num(v);
  if (n === undefined) {
    return { ok: false, reason: `%${type} format: a number is required, not ${typeName(v)}` };
  }
  const abs = Math.abs(n);
  let body: string;
  switch (type) {
    case 'd':
    case 'i':
    case 'u':
      body = String(Math.trunc(abs));
      break;
    case 'x':
    case 'X':
    case 'o': {
      if (isFloat(v)) return { ok: false, reason: `%${type} format: an integer is required, not float` };
      const radix = type === 'o' ? 8 : 16;
      body = abs.toString(radix);
      if (precision !== undefined) body = body.padStart(precision, '0');
      if (flags.includes('#')) body = (type === 'o' ? '0o' : '0x') + body;
      if (type === 'X') body = body.toUpperCase();
      break;
    }
    case 'f':
    case 'F':
      body = abs.toFixed(precision ?? 6);
      break;
    case 'e':
    case 'E': {
      body = abs.toExponential(precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      if (type === 'E') body = body.toUpperCase();
      break;
    }
    case 'g':
    case 'G': {
      const p = precision === 0 ? 1 : (precision ?? 6);
      const exp = abs === 0 ? 0 : Math.floor(Math.log10(abs));
      if (exp < -4 || exp >= p) {
        body = abs.toExponential(p - 1).replace(/e([+-])(\d)$/, 'e$10$2');
        if (!flags.includes('#')) body = body.replace(/\.?0+e/, 'e');
      } else {
        body = abs.toFixed(Math.max(0, p - 1 - exp));
        if (!flags.includes('#') && body.includes('.')) body = body.replace(/\.?0+$/, '');
      }
      if (type === 'G') body = body.toUpperCase();
      break;
    }
    default:
      return { ok: false, reason: `unsupported format character '${type}'` };
  }
  if (n < 0 && body !== '0') body = `-${body}`;
  return { ok: true, s: signed(n, body, flags), numeric: true };
}

function format(template: string, arg: Operand, limit: number): Outcome {
  const args: XmValue[] = arg.tuple && Array.isArray(arg.value) ? arg.value : [arg.value];
  let used = 0;
  let out = '';
  let i = 0;
  const next = (): XmValue | undefined => (used < args.length ? args[used++] : undefined);
  while (i < template.length) {
    const pct = template.indexOf('%', i);
    if (pct < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, pct);
    SPEC.lastIndex = pct;
    const m = SPEC.exec(template);
    const type = m?.[5];
    if (!m || type === undefined) return no('incomplete format: a % at the end of the string (write %% for a percent sign)');
    i = SPEC.lastIndex;
    if (type === '%' && m[1] === undefined && m[3] === undefined) {
      out += '%';
      continue;
    }
    if (m[1] !== undefined) return no(`'%${m[1]}...' needs a dict, and dicts are not allowed in a config file; use %s with a tuple`);
    const flags = m[2] ?? '';
    const star = (text: string | undefined): { n?: number; err?: string } => {
      if (text === undefined) return {};
      if (text !== '*') return { n: Number(text) };
      const v = next();
      if (typeof v !== 'number') return { err: '* wants an int' };
      return { n: v };
    };
    const width = star(m[3]);
    const precision = star(m[4]);
    const err = width.err ?? precision.err;
    if (err) return no(err);
    const v = next();
    if (v === undefined) return no('not enough arguments for format string');
    const r = convert(type, v, flags, precision.n);
    if (!r.ok) return no(r.reason);
    let w = width.n ?? 0;
    let f = flags;
    if (w < 0) {
      w = -w;
      f += '-';
    }
    out += pad(r.s, w, f, r.numeric);
    if (out.length > limit) return no('the formatted string is larger than a domain config can be');
  }
  // Python lets a non-tuple sequence pass unconverted (`'x' % []`); anything else left over is an error.
  if (used < args.length && (arg.tuple || !Array.isArray(arg.value))) return no('not all arguments converted during string formatting');
  return ok(out);
}
