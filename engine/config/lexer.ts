// Tokenizer for the safe subset of Python that xm config files are written in. It follows Python's
// own rules for what a token is (so `a.b`, `f"x"` or `1j` are seen for what they are and can be
// refused by name) but only ever produces literal values: nothing is evaluated.

import { XmSyntaxError } from './errors.js';
import { XmFloat } from './values.js';

/** Deepest bracket nesting accepted; also bounds the parser's recursion. */
export const MAX_NESTING = 32;

export type TokenKind = 'name' | 'number' | 'string' | 'op' | 'newline' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text for names and operators; '' for newline/eof. */
  text: string;
  /** Decoded value of a number (int) or string token. */
  value?: string | number | XmFloat;
  line: number;
  col: number;
}

interface OpenBracket {
  ch: string;
  line: number;
  col: number;
}

// Longest first, so `**=` is not read as `**` `=`.
const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '...',
  '->', ':=', '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '<>',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@=',
  '+', '-', '*', '/', '%', '@', '&', '|', '^', '~', '<', '>',
  '(', ')', '[', ']', '{', '}', ',', ':', '.', ';', '=', '!', '`',
];

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

const STRING_PREFIXES = new Set(['r', 'u', 'ur', 'b', 'br', 'rb', 'f', 'fr', 'rf', 't', 'tr', 'rt']);

const HEX_INT = /0[xX](?:_?[0-9a-fA-F])+/y;
const OCT_INT = /0[oO](?:_?[0-7])+/y;
const BIN_INT = /0[bB](?:_?[01])+/y;
const FLOAT =
  /(?:\d(?:_?\d)*\.(?:\d(?:_?\d)*)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*/y;
const DEC_INT = /\d(?:_?\d)*/y;

function isNameStart(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
}

function isNameChar(ch: string): boolean {
  return isNameStart(ch) || (ch >= '0' && ch <= '9');
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `'${ch}'`;
}

export class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  private atLineStart = true;
  private readonly brackets: OpenBracket[] = [];
  private peeked: Token | undefined;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  fail(line: number, col: number, reason: string): never {
    throw new XmSyntaxError(this.file, line, col, reason);
  }

  get depth(): number {
    return this.brackets.length;
  }

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  /**
   * Called when the parser is about to report a confusing error inside brackets: if the real
   * problem is a bracket that is never closed (so the following lines were swallowed into it),
   * that is the error worth reporting.
   */
  rethrowIfUnclosed(): void {
    try {
      while (this.next().kind !== 'eof') {
        /* drain */
      }
    } catch (e) {
      if (e instanceof XmSyntaxError && e.reason.endsWith('was never closed')) throw e;
    }
  }

  /**
   * Passes over the body of a compound statement without reading it: the rest of the header's
   * line and every following line that is indented, blank or a comment. Only used for the check
   * functions of Xen's xm_vars idiom, which are never run (their names are the only thing used).
   */
  skipBody(): void {
    if (this.peeked !== undefined) throw new Error('skipBody after a peek');
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
    while (this.pos < this.text.length) {
      let j = this.pos + 1;
      while (this.text[j] === ' ' || this.text[j] === '\t') j++;
      const ch = this.text[j];
      const blank = ch === undefined || ch === '\n' || ch === '#';
      if (!blank && j === this.pos + 1) break;
      this.advance();
      while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
    }
  }

  /** Consumes one UTF-16 unit, keeping line/col in code points as editors show them. */
  private advance(): string {
    const ch = this.text[this.pos] as string;
    this.pos++;
    if (ch === '\n') {
      this.line++;
      this.col = 1;
    } else {
      const code = ch.charCodeAt(0);
      // The low half of a surrogate pair is the same column as its high half.
      const prev = this.text.charCodeAt(this.pos - 2);
      if (!(code >= 0xdc00 && code <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff)) this.col++;
    }
    return ch;
  }

  private skip(n: number): void {
    for (let i = 0; i < n; i++) this.advance();
  }

  private scan(): Token {
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) return this.endOfFile();
      if (ch === ' ' || ch === '\t' || ch === '\f') {
        const indented = this.atLineStart && this.col === 1 && this.brackets.length === 0;
        while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t' || this.text[this.pos] === '\f') {
          this.advance();
        }
        const after = this.text[this.pos];
        if (indented && after !== undefined && after !== '\n' && after !== '#') {
          this.fail(
            this.line,
            this.col,
            'unexpected indentation: each assignment must start at the beginning of its line',
          );
        }
        continue;
      }
      if (ch === '#') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
        continue;
      }
      if (ch === '\n') {
        const line = this.line;
        const col = this.col;
        this.advance();
        if (this.brackets.length > 0 || this.atLineStart) continue;
        this.atLineStart = true;
        return { kind: 'newline', text: '', line, col };
      }
      if (ch === '\\') {
        const after = this.text[this.pos + 1];
        if (after === '\n') {
          this.skip(2);
          continue;
        }
        if (after === undefined) this.fail(this.line, this.col, "unexpected end of file after line continuation '\\'");
        this.fail(this.line, this.col, "unexpected character after line continuation '\\': it must end the line");
      }
      this.atLineStart = false;
      return this.token(ch);
    }
  }

  private endOfFile(): Token {
    const open = this.brackets[this.brackets.length - 1];
    if (open !== undefined) this.fail(open.line, open.col, `'${open.ch}' was never closed`);
    if (!this.atLineStart) {
      this.atLineStart = true;
      return { kind: 'newline', text: '', line: this.line, col: this.col };
    }
    return { kind: 'eof', text: '', line: this.line, col: this.col };
  }

  private token(ch: string): Token {
    const line = this.line;
    const col = this.col;
    if (isNameStart(ch)) {
      const start = this.pos;
      while (this.pos < this.text.length && isNameChar(this.text[this.pos] as string)) this.advance();
      const name = this.text.slice(start, this.pos);
      const quote = this.text[this.pos];
      if ((quote === '"' || quote === "'") && STRING_PREFIXES.has(name.toLowerCase())) {
        return this.string(name.toLowerCase(), line, col);
      }
      return { kind: 'name', text: name, line, col };
    }
    if ((ch >= '0' && ch <= '9') || (ch === '.' && /[0-9]/.test(this.text[this.pos + 1] ?? ''))) {
      return this.number(line, col);
    }
    if (ch === '"' || ch === "'") return this.string('', line, col);
    for (const op of OPERATORS) {
      if (this.text.startsWith(op, this.pos)) {
        this.skip(op.length);
        this.trackBracket(op, line, col);
        return { kind: 'op', text: op, line, col };
      }
    }
    const cp = String.fromCodePoint(this.text.codePointAt(this.pos) ?? 0);
    this.fail(line, col, `unexpected character ${describeChar(cp)}`);
  }

  private trackBracket(op: string, line: number, col: number): void {
    if (op === '(' || op === '[' || op === '{') {
      if (this.brackets.length >= MAX_NESTING) {
        this.fail(line, col, `brackets are nested more than ${MAX_NESTING} deep`);
      }
      this.brackets.push({ ch: op, line, col });
    } else if (op === ')' || op === ']' || op === '}') {
      const open = this.brackets.pop();
      if (open === undefined) this.fail(line, col, `unmatched '${op}'`);
      if (CLOSER[open.ch] !== op) {
        this.fail(line, col, `'${op}' does not match '${open.ch}' opened at line ${open.line} col ${open.col}`);
      }
    }
  }

  private number(line: number, col: number): Token {
    const at = (re: RegExp): string | undefined => {
      re.lastIndex = this.pos;
      return re.exec(this.text)?.[0];
    };
    let text: string | undefined;
    let value: number | XmFloat;
    const radix = at(HEX_INT) ?? at(OCT_INT) ?? at(BIN_INT);
    if (radix !== undefined) {
      text = radix;
      value = this.safeInt(BigInt(radix.replace(/_/g, '')), line, col);
    } else if ((text = at(FLOAT)) !== undefined) {
      value = new XmFloat(Number(text.replace(/_/g, '')));
    } else {
      text = at(DEC_INT) as string;
      const digits = text.replace(/_/g, '');
      if (digits.startsWith('0') && /[1-9]/.test(digits)) {
        this.fail(line, col, `leading zeros are not allowed in '${text}'; write 0o${digits.replace(/^0+/, '')} for an octal number or drop the zeros`);
      }
      value = this.safeInt(BigInt(digits), line, col);
    }
    this.skip(text.length);
    const after = this.text[this.pos] ?? '';
    if ((after === 'l' || after === 'L') && typeof value === 'number') {
      // Python 2's long suffix (512L), seen in configs of that era: the same int.
      this.advance();
    } else if (after === 'j' || after === 'J') {
      this.fail(line, col, `complex numbers such as '${text}j' are not allowed in a config file`);
    } else if (isNameChar(after) || after === '.') {
      const rest = /[\w.]*/y;
      rest.lastIndex = this.pos;
      this.fail(line, col, `invalid number '${text}${rest.exec(this.text)?.[0] ?? ''}'`);
    }
    return { kind: 'number', text, value, line, col };
  }

  private safeInt(v: bigint, line: number, col: number): number {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.fail(line, col, `the number ${v} is too large (the limit is ${Number.MAX_SAFE_INTEGER})`);
    }
    return Number(v);
  }

  private string(prefix: string, line: number, col: number): Token {
    if (prefix.includes('f') || prefix.includes('t')) {
      this.fail(line, col, 'f-strings are not allowed in a config file (they run code); use a plain string such as "text"');
    }
    if (prefix.includes('b')) {
      this.fail(line, col, `bytes literals (${prefix}'...') are not allowed in a config file; use a plain string such as "text"`);
    }
    const raw = prefix.includes('r');
    const quote = this.text[this.pos] as string;
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    this.skip(triple ? 3 : 1);
    const parts: string[] = [];
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) {
        this.fail(line, col, triple ? 'unterminated triple-quoted string' : `unterminated string (missing closing ${quote})`);
      }
      if (ch === '\n' && !triple) {
        this.fail(
          line,
          col,
          `unterminated string (missing closing ${quote} on this line; use \\n or a triple-quoted string for a newline)`,
        );
      }
      if (ch === quote && (!triple || this.text.startsWith(quote.repeat(3), this.pos))) {
        this.skip(triple ? 3 : 1);
        return { kind: 'string', text: '', value: parts.join(''), line, col };
      }
      if (ch === '\\') {
        const escLine = this.line;
        const escCol = this.col;
        this.advance();
        const next = this.text[this.pos];
        if (next === undefined) continue; // reported as unterminated on the next turn
        if (raw) {
          // In raw strings a backslash keeps itself and stops the next character ending the string.
          parts.push('\\', this.advance());
          continue;
        }
        parts.push(this.escape(escLine, escCol));
        continue;
      }
      parts.push(this.advance());
    }
  }

  /** Decodes one escape (the backslash already consumed), Python 3 `str` rules. */
  private escape(line: number, col: number): string {
    const ch = this.advance();
    const simple: Record<string, string> = {
      '\n': '',
      '\\': '\\',
      "'": "'",
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
    };
    const s = simple[ch];
    if (s !== undefined) return s;
    if (ch >= '0' && ch <= '7') {
      let digits = ch;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) digits += this.advance();
      return String.fromCharCode(parseInt(digits, 8));
    }
    const hexDigits = (n: number, what: string): number => {
      const h = this.text.slice(this.pos, this.pos + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) {
        this.fail(line, col, `invalid escape in string: \\${what} needs ${n} hex digits`);
      }
      this.skip(n);
      return parseInt(h, 16);
    };
    if (ch === 'x') return String.fromCharCode(hexDigits(2, 'xNN'));
    if (ch === 'u') return String.fromCharCode(hexDigits(4, 'uNNNN'));
    if (ch === 'U') {
      const cp = hexDigits(8, 'UNNNNNNNN');
      if (cp > 0x10ffff) this.fail(line, col, `invalid escape in string: U+${cp.toString(16)} is beyond Unicode`);
      return String.fromCodePoint(cp);
    }
    if (ch === 'N') this.fail(line, col, 'named escapes (\\N{...}) are not supported; write the character itself');
    // Python keeps unknown escapes such as "\d" as the two characters.
    return `\\${ch}`;
  }
}
