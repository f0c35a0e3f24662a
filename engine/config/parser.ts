// The safe xm config reader. Xen executes these files as Python; we read a strict subset (one
// `name = literal` per statement) and refuse everything else with a located, plain-words error, so
// a config file can never run code here, whatever it contains.

import { XmSyntaxError } from './errors.js';
import { Lexer, MAX_NESTING, type Token } from './lexer.js';
import { add, divide, modulo, multiply, negate, power, subtract, type Operand, type Outcome } from './expr.js';
import { XmFloat, cloneXmValue, type XmAssignment, type XmFile, type XmValue } from './values.js';

export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Names may be substituted into lists, so a small file can describe a huge value
 * (`b = [a, a]`, `c = [b, b]`, ...). This bounds what a file may expand to, counted in list items
 * plus string characters.
 */
export const MAX_EXPANDED_SIZE = 8 * 1024 * 1024;

/** The file name used in errors about `var=value` arguments. */
export const COMMAND_LINE = '<command line>';

const ONLY_VALUES = 'only values such as "text", 42, True or [...]';
const ONLY_ASSIGNMENTS = 'a config file may only contain assignments such as name = "web1"';

// Python keywords that start statements, and 'print'/'exec' which were statements in Python 2.
const STATEMENT_KEYWORDS = new Set([
  'import', 'from', 'if', 'elif', 'else', 'for', 'while', 'def', 'class', 'with', 'try', 'except',
  'finally', 'return', 'del', 'global', 'nonlocal', 'assert', 'pass', 'raise', 'break', 'continue',
  'yield', 'async', 'await', 'match', 'case', 'type',
]);
const HARD_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);
const WORD_OPERATORS = new Set(['and', 'or', 'not', 'in', 'is']);
const AUGMENTED = new Set(['+=', '-=', '*=', '/=', '//=', '%=', '**=', '>>=', '<<=', '&=', '|=', '^=', '@=']);
// Tokens that only make sense as part of a structure we do parse.
const STRUCTURAL = new Set(['(', ')', '[', ']', '{', '}', ',', ';', '=']);

function describe(t: Token): string {
  switch (t.kind) {
    case 'newline':
      return 'the end of the line';
    case 'eof':
      return 'the end of the file';
    case 'string':
      return 'a string';
    case 'number':
      return `'${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}

interface Measure {
  depth: number;
  size: number;
}

function measure(v: XmValue): Measure {
  if (typeof v === 'string') return { depth: 0, size: v.length + 1 };
  if (!Array.isArray(v)) return { depth: 0, size: 1 };
  let depth = 0;
  let size = 1;
  for (const item of v) {
    const m = measure(item);
    depth = Math.max(depth, m.depth);
    size += m.size;
  }
  return { depth: depth + 1, size };
}

/** A name from Xen's xm_vars idiom: declared by the file, given a value on the command line. */
interface DeclaredVar {
  name: string;
  use: string;
  at: Token;
}

class Parser {
  /** Names assigned so far, with their measured size for the expansion bound. */
  private readonly env = new Map<string, { value: XmValue; size: number }>();
  /** Names given on the command line: they win over the file's own assignments, as in `xm create`. */
  private readonly fixed = new Set<string>();
  /** `def` statements, by name: allowed only as the check functions of `xm_vars.var`. */
  private readonly defs = new Map<string, Token>();
  private readonly checks = new Set<string>();
  private readonly declared: DeclaredVar[] = [];
  /** Every name an expression read or xm_vars declared. */
  readonly references = new Set<string>();
  private expanded = 0;

  constructor(
    private readonly lx: Lexer,
    private readonly file_ = '',
    vars: readonly XmAssignment[] = [],
    /** A command-line value: literals only, so `cpus=0-3` stays the text it is. */
    private readonly literalOnly = false,
  ) {
    for (const v of vars) {
      this.env.set(v.key, { value: v.value, size: measure(v.value).size });
      this.fixed.add(v.key);
    }
  }

  private fail(t: { line: number; col: number }, reason: string): never {
    // Inside brackets, the first odd token is often just the next line swallowed by a bracket
    // that was never closed; that is the error the user needs.
    if (this.lx.depth > 0) this.lx.rethrowIfUnclosed();
    this.lx.fail(t.line, t.col, reason);
  }

  private isOp(t: Token, text: string): boolean {
    return t.kind === 'op' && t.text === text;
  }

  private isEnd(t: Token): boolean {
    return t.kind === 'newline' || t.kind === 'eof' || this.isOp(t, ';');
  }

  file(): XmAssignment[] {
    const out: XmAssignment[] = [];
    for (;;) {
      const t = this.lx.next();
      if (t.kind === 'eof') break;
      if (t.kind === 'newline') continue;
      const a = this.statement(t);
      if (a !== undefined) out.push(a);
      const end = this.lx.next();
      if (end.kind === 'eof') break;
      if (end.kind === 'newline' || this.isOp(end, ';')) continue;
      if (this.isOp(end, '=')) this.chainedError(end);
      this.unexpectedAfterValue(end, 'put each assignment on its own line');
    }
    for (const [name, at] of this.defs) {
      if (!this.checks.has(name)) {
        this.fail(at, `function definitions (def ${name}) are not allowed in a config file; ${ONLY_ASSIGNMENTS}`);
      }
    }
    return out;
  }

  private statement(first: Token): XmAssignment | undefined {
    if (first.kind !== 'name') {
      if (first.kind === 'op' && first.text === '@') this.fail(first, `decorators are not allowed in a config file; ${ONLY_ASSIGNMENTS}`);
      this.fail(first, `expected a name at the start of the line, got ${describe(first)}; ${ONLY_ASSIGNMENTS}`);
    }
    const name = first.text;
    if (name === 'import' || name === 'from') {
      this.fail(
        first,
        `import statements are not allowed in a config file (Dom0 never runs code from it); ${ONLY_ASSIGNMENTS}. ` +
          'Delete the import and the lines that use it, and write their result as a value ' +
          '(Xen\'s arch_libdir lines become arch_libdir = "lib64")',
      );
    }
    if (name === 'def' && this.lx.peek().kind === 'name') return this.defStatement(first);
    if (name === 'xm_vars' && this.isOp(this.lx.peek(), '.')) return this.xmVarsStatement(first);
    if (STATEMENT_KEYWORDS.has(name) && !this.isOp(this.lx.peek(), '=')) {
      this.fail(first, `'${name}' statements are not allowed in a config file; ${ONLY_ASSIGNMENTS}`);
    }
    if (name === 'lambda') this.fail(first, `lambda expressions are not allowed in a config file; ${ONLY_ASSIGNMENTS}`);
    if (HARD_KEYWORDS.has(name)) this.fail(first, `'${name}' is a Python keyword and cannot be assigned to`);
    const eq = this.lx.next();
    if (!this.isOp(eq, '=')) this.notAnAssignment(first, eq);
    const value = this.expression(true);
    const m = measure(value);
    if (m.depth > MAX_NESTING) this.fail(first, `lists are nested more than ${MAX_NESTING} deep`);
    this.grow(m.size, first);
    if (!this.fixed.has(name)) this.env.set(name, { value, size: m.size });
    return { key: name, value, line: first.line, col: first.col };
  }

  /**
   * `def check(var, val): ...` from Xen's xm_vars idiom. The body is skipped, never run; a def
   * that no `xm_vars.var(..., check=NAME)` names is refused at the end of the file.
   */
  private defStatement(first: Token): undefined {
    const nameTok = this.lx.next();
    if (this.defs.has(nameTok.text)) this.fail(nameTok, `function ${nameTok.text} is defined twice`);
    const open = this.lx.next();
    if (!this.isOp(open, '(')) this.fail(open, `expected '(' after def ${nameTok.text}`);
    for (;;) {
      const t = this.lx.next();
      if (this.isOp(t, ')')) break;
      if (t.kind !== 'name' && !this.isOp(t, ',')) {
        this.fail(t, `function definitions are not allowed in a config file; ${ONLY_ASSIGNMENTS}`);
      }
    }
    const colon = this.lx.next();
    if (!this.isOp(colon, ':')) this.fail(colon, `expected ':' after def ${nameTok.text}(...)`);
    this.lx.skipBody();
    this.defs.set(nameTok.text, first);
    return undefined;
  }

  /** `xm_vars.var('vmid', use="...", check=vmid_check)` and `xm_vars.check()`: declarations only. */
  private xmVarsStatement(first: Token): undefined {
    this.lx.next(); // '.'
    const method = this.lx.next();
    const open = this.lx.next();
    if (method.kind !== 'name' || !this.isOp(open, '(') || (method.text !== 'var' && method.text !== 'check')) {
      this.fail(first, `only xm_vars.var(...) and xm_vars.check() of Xen's xm_vars idiom are allowed; ${ONLY_ASSIGNMENTS}`);
    }
    const positional: Array<{ v: XmValue; t: Token }> = [];
    const named = new Map<string, { v: XmValue; t: Token }>();
    while (!this.isOp(this.lx.peek(), ')')) {
      const t = this.lx.peek();
      if (t.kind === 'name' && (t.text === 'use' || t.text === 'check' || t.text === 'name')) {
        this.lx.next();
        const eq = this.lx.next();
        if (!this.isOp(eq, '=')) this.fail(eq, `expected '=' after ${t.text} in xm_vars.${method.text}(...)`);
        named.set(t.text, { v: t.text === 'check' ? this.checkName() : this.expr().value, t });
      } else if (positional.length === 2) {
        positional.push({ v: this.checkName(), t });
      } else {
        positional.push({ v: this.expr().value, t });
      }
      const sep = this.lx.peek();
      if (this.isOp(sep, ',')) this.lx.next();
      else if (!this.isOp(sep, ')')) this.unexpectedInSequence(sep, ')');
    }
    this.lx.next(); // ')'
    if (method.text === 'check') {
      if (positional.length > 0 || named.size > 0) this.fail(first, 'xm_vars.check() takes no arguments');
      for (const d of this.declared) {
        if (!this.env.has(d.name)) this.needVar(d);
      }
      return undefined;
    }
    const nameArg = named.get('name') ?? positional[0];
    const useArg = named.get('use') ?? positional[1];
    if (nameArg === undefined || typeof nameArg.v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(nameArg.v)) {
      this.fail(first, "xm_vars.var needs the variable's name as a string, as in xm_vars.var('vmid', use=\"...\")");
    }
    this.references.add(nameArg.v);
    this.declared.push({ name: nameArg.v, use: typeof useArg?.v === 'string' ? useArg.v : '', at: first });
    return undefined;
  }

  /** The `check=` argument: the name of a function defined earlier (never called). */
  private checkName(): XmValue {
    const t = this.lx.next();
    if (t.kind === 'name' && (t.text === 'None' || this.defs.has(t.text))) {
      this.checks.add(t.text);
      return null;
    }
    return this.fail(t, 'check= must name a function defined earlier in the file with def');
  }

  private needVar(d: DeclaredVar, at: Token = d.at): never {
    const base = this.file_.split('/').pop() || 'FILE';
    const use = d.use ? ` (${d.use})` : '';
    return this.fail(
      at,
      `this file needs the variable ${d.name}${use}, declared with Xen's xm_vars idiom; ` +
        `pass ${d.name}=N on the command line, as in: xm create ${base} ${d.name}=1`,
    );
  }

  private notAnAssignment(first: Token, t: Token): never {
    const name = first.text;
    if (t.kind === 'op') {
      if (t.text === '(') this.callError(first);
      if (t.text === '.') this.attributeError(t, this.lx.peek());
      if (t.text === '[') this.postfixError(t);
      if (t.text === ',') this.fail(t, 'only one name can be assigned per line (a, b = ... is not allowed)');
      if (AUGMENTED.has(t.text)) {
        this.fail(t, `augmented assignment '${t.text}' is not allowed in a config file; write ${name} = <the whole value>`);
      }
      if (t.text === ':') this.fail(t, `type annotations are not allowed in a config file; write ${name} = value`);
      if (!STRUCTURAL.has(t.text)) this.operatorError(t);
    }
    if ((name === 'print' || name === 'exec') && (t.kind === 'string' || t.kind === 'name' || t.kind === 'number')) {
      this.fail(first, `'${name}' statements are not allowed in a config file; ${ONLY_ASSIGNMENTS}`);
    }
    if (t.kind === 'name' && WORD_OPERATORS.has(t.text)) this.operatorError(t);
    this.fail(t, `expected '=' after '${name}', got ${describe(t)}; ${ONLY_ASSIGNMENTS}`);
  }

  /** A value; at the top of an assignment also Python's bare tuple `a = 1, 2`. */
  expression(top: boolean): XmValue {
    const first = this.expr().value;
    if (!top || !this.isOp(this.lx.peek(), ',')) return first;
    const items = [first];
    while (this.isOp(this.lx.peek(), ',')) {
      this.lx.next();
      if (this.isEnd(this.lx.peek())) break;
      items.push(this.expr().value);
    }
    return items;
  }

  /**
   * Pure arithmetic over literals and earlier names: + - * / // % ** and unary signs, with
   * Python's precedence. Whatever follows that is not part of the value is refused by name.
   */
  private expr(): Operand {
    const v = this.additive();
    this.checkAfterValue();
    return v;
  }

  private additive(): Operand {
    let left = this.term();
    for (;;) {
      const op = this.lx.peek();
      if (!this.isOp(op, '+') && !this.isOp(op, '-')) return left;
      if (this.literalOnly) this.operatorError(op);
      this.lx.next();
      const right = this.term();
      left = this.result(op, op.text === '+' ? add(left.value, right.value) : subtract(left.value, right.value));
    }
  }

  private term(): Operand {
    let left = this.unary();
    for (;;) {
      const op = this.lx.peek();
      if (op.kind !== 'op' || !['*', '/', '//', '%'].includes(op.text)) return left;
      if (this.literalOnly) this.operatorError(op);
      this.lx.next();
      const right = this.unary();
      const room = MAX_EXPANDED_SIZE - this.expanded;
      let r: Outcome;
      if (op.text === '*') r = multiply(left.value, right.value, room);
      else if (op.text === '%') r = modulo(left, right, room);
      else r = divide(left.value, right.value, op.text as '/' | '//');
      left = this.result(op, r);
    }
  }

  private unary(): Operand {
    const op = this.lx.peek();
    if (this.isOp(op, '-') || this.isOp(op, '+')) {
      this.lx.next();
      const v = this.unary();
      return this.result(op, negate(v.value, op.text as '-' | '+'));
    }
    return this.power();
  }

  private power(): Operand {
    const base = this.atom();
    const op = this.lx.peek();
    if (!this.isOp(op, '**')) return base;
    if (this.literalOnly) this.operatorError(op);
    this.lx.next();
    const exp = this.unary();
    return this.result(op, power(base.value, exp.value));
  }

  private result(op: Token, r: Outcome): Operand {
    if (!r.ok) this.fail(op, r.reason);
    this.grow(measure(r.value).size, op);
    return { value: r.value, tuple: false };
  }

  private atom(): Operand {
    const t = this.lx.next();
    let v: Operand;
    switch (t.kind) {
      case 'string': {
        let s = t.value as string;
        while (this.lx.peek().kind === 'string') s += this.lx.next().value as string;
        v = { value: s, tuple: false };
        break;
      }
      case 'number':
        v = { value: t.value as number | XmFloat, tuple: false };
        break;
      case 'name':
        v = { value: this.name(t), tuple: false };
        break;
      case 'op':
        v = this.opValue(t);
        break;
      default:
        this.fail(t, `expected a value, got ${describe(t)}; ${ONLY_VALUES}`);
    }
    this.checkPostfix(t);
    return v;
  }

  private name(t: Token): XmValue {
    switch (t.text) {
      case 'True':
        return true;
      case 'False':
        return false;
      case 'None':
        return null;
      case 'lambda':
        return this.fail(t, `lambda expressions are not allowed in a config file; ${ONLY_VALUES}`);
      default:
    }
    if (WORD_OPERATORS.has(t.text)) this.operatorError(t);
    if (HARD_KEYWORDS.has(t.text)) {
      const after = this.lx.peek();
      if (this.isOp(after, '(')) this.callError(t);
      this.fail(t, `'${t.text}' is not allowed in a config file; ${ONLY_VALUES}`);
    }
    // Calls and attribute access are reported as such even on defined names: that is the mistake.
    this.checkPostfix(t);
    // `x = y = 1` and `[i for i in y]` are reported as what they are, not as an unknown name.
    const after = this.lx.peek();
    if ((after.kind === 'name' && (WORD_OPERATORS.has(after.text) || after.text === 'if' || after.text === 'for')) || (this.isOp(after, '=') && this.lx.depth === 0)) {
      this.checkAfterValue();
    }
    this.references.add(t.text);
    const bound = this.env.get(t.text);
    if (bound === undefined) {
      const d = this.declared.find((x) => x.name === t.text);
      if (d !== undefined) this.needVar(d, t);
      this.fail(t, `name '${t.text}' is not defined; assign it on an earlier line, or pass ${t.text}=... on the command line`);
    }
    // Counted before copying, so that the copy itself cannot exhaust memory.
    this.grow(bound.size, t);
    return cloneXmValue(bound.value);
  }

  private opValue(t: Token): Operand {
    switch (t.text) {
      case '[':
        return { value: this.sequence(t, ']', []), tuple: false };
      case '(': {
        if (this.isOp(this.lx.peek(), ')')) {
          this.lx.next();
          return { value: [], tuple: true };
        }
        const first = this.expr();
        const sep = this.lx.next();
        // `(x)` is only grouping in Python; a tuple needs a comma.
        if (this.isOp(sep, ')')) return first;
        if (!this.isOp(sep, ',')) this.unexpectedInSequence(sep, ')');
        return { value: this.sequence(t, ')', [first.value]), tuple: true };
      }
      case '{':
        return this.fail(t, `dicts and sets ({...}) are not allowed in a config file; ${ONLY_VALUES}`);
      default:
        if (!STRUCTURAL.has(t.text) && t.text !== ':' && t.text !== '.') this.operatorError(t);
        this.fail(t, `expected a value, got ${describe(t)}; ${ONLY_VALUES}`);
    }
  }

  private sequence(open: Token, close: string, items: XmValue[]): XmValue[] {
    for (;;) {
      if (this.isOp(this.lx.peek(), close)) {
        this.lx.next();
        break;
      }
      items.push(this.expr().value);
      const sep = this.lx.next();
      if (this.isOp(sep, ',')) continue;
      if (this.isOp(sep, close)) break;
      this.unexpectedInSequence(sep, close);
    }
    const m = measure(items);
    if (m.depth > MAX_NESTING) this.fail(open, `lists are nested more than ${MAX_NESTING} deep`);
    return items;
  }

  /** Calls, attribute access and indexing: refused even on values we could compute. */
  private checkPostfix(start: Token): void {
    const p = this.lx.peek();
    if (p.kind !== 'op') return;
    if (p.text === '(') this.callError(start);
    if (p.text === '.' || p.text === '[') this.postfixError(p);
  }

  /** Refuses what may follow a value in Python but not in a config file: comparisons, `and`, ... */
  private checkAfterValue(): void {
    const p = this.lx.peek();
    if (p.kind === 'op') {
      if (p.text === '=' && this.lx.depth === 0) this.chainedError(p);
      if (AUGMENTED.has(p.text) || !(STRUCTURAL.has(p.text) || p.text === ':')) this.operatorError(p);
    } else if (p.kind === 'name') {
      if (WORD_OPERATORS.has(p.text)) this.operatorError(p);
      if (p.text === 'if') this.fail(p, `conditional expressions (a if b else c) are not allowed in a config file; ${ONLY_VALUES}`);
      if (p.text === 'for') this.fail(p, `comprehensions ([x for x in ...]) are not allowed in a config file; ${ONLY_VALUES}`);
    }
  }

  private chainedError(t: Token): never {
    this.fail(t, 'chained assignments (a = b = value) are not allowed; assign each name on its own line');
  }

  private callError(start: Token): never {
    this.fail(start, `function calls are not allowed in a config file; ${ONLY_VALUES}`);
  }

  /** `t` is a '.' or '[' that has been peeked, not consumed. */
  private postfixError(t: Token): never {
    if (t.text === '.') {
      this.lx.next();
      this.attributeError(t, this.lx.peek());
    }
    this.fail(t, `indexing and slicing (x[...]) are not allowed in a config file; ${ONLY_VALUES}`);
  }

  private attributeError(dot: Token, attr: Token): never {
    const what = attr.kind === 'name' ? ` ('.${attr.text}')` : '';
    this.fail(dot, `attribute access${what} is not allowed in a config file; ${ONLY_VALUES}`);
  }

  private operatorError(t: Token): never {
    this.fail(t, `operators such as '${t.text}' are not allowed in a config file; only + - * / // % ** work on values`);
  }

  private unexpectedAfterValue(t: Token, hint: string): never {
    if (t.kind === 'op' && !STRUCTURAL.has(t.text)) this.operatorError(t);
    this.fail(t, `unexpected ${describe(t)} after the value; ${hint}`);
  }

  private unexpectedInSequence(t: Token, close: string): never {
    if (t.kind === 'op' && !STRUCTURAL.has(t.text) && t.text !== ':') this.operatorError(t);
    if (this.isOp(t, ':') && close === '}') this.fail(t, `dicts are not allowed in a config file; ${ONLY_VALUES}`);
    this.fail(t, `expected ',' or '${close}' after a list item, got ${describe(t)}`);
  }

  /** Bounds what names can expand to, so a small file cannot describe a gigantic value. */
  private grow(size: number, at: Token): void {
    this.expanded += size;
    if (this.expanded > MAX_EXPANDED_SIZE) {
      this.fail(at, 'the values in this file add up to more than 8 MiB; a domain config is small');
    }
  }
}

function location(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return { line, col: [...before.slice(lineStart)].length + 1 };
}

/** Reads an xm domain config without executing anything. Throws XmSyntaxError. */
export function parseXm(text: string, file: string, vars: readonly XmAssignment[] = []): XmFile {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) {
    throw new XmSyntaxError(file, 1, 1, `the file is ${bytes} bytes; a domain config may be at most 1 MiB`);
  }
  // Python reads source with universal newlines, and editors hide a byte-order mark.
  const src = (text.startsWith('\uFEFF') ? text.slice(1) : text).replace(/\r\n?/g, '\n');
  const nul = src.indexOf('\0');
  if (nul >= 0) {
    const at = location(src, nul);
    throw new XmSyntaxError(file, at.line, at.col, 'the file contains a NUL character; it is not a text config file');
  }
  const parser = new Parser(new Lexer(src, file), file, vars);
  const assignments = parser.file();
  return parser.references.size > 0 ? { file, assignments, references: [...parser.references] } : { file, assignments };
}

type Literal = { ok: true; value: XmValue } | { ok: false };

/** One Python literal and nothing else (no names, no bare tuple). */
function parseLiteral(text: string): Literal {
  if (text.length > MAX_FILE_BYTES || text.includes('\0')) return { ok: false };
  try {
    const lx = new Lexer(text.replace(/\r\n?/g, '\n'), COMMAND_LINE);
    const value = new Parser(lx, COMMAND_LINE, [], true).expression(false);
    const end = lx.next();
    if (end.kind !== 'eof' && !(end.kind === 'newline' && lx.next().kind === 'eof')) return { ok: false };
    return { ok: true, value };
  } catch (e) {
    if (e instanceof XmSyntaxError) return { ok: false };
    throw e;
  }
}

/**
 * A `var=value` argument of `xm create`. The value is a Python literal if it reads as one
 * (`memory=64`, `disk=['file:/x,xvda,w']`), otherwise the text as typed (`name=web1`).
 * `col` is where the argument starts on the command line, for error locations.
 */
export function parseOverride(arg: string, col = 1): XmAssignment {
  const eq = arg.indexOf('=');
  if (eq < 0) {
    throw new XmSyntaxError(COMMAND_LINE, 1, col, `${JSON.stringify(arg)} is not var=value (for example memory=512 or name=web1)`);
  }
  const key = arg.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || HARD_KEYWORDS.has(key)) {
    throw new XmSyntaxError(
      COMMAND_LINE,
      1,
      col,
      `${JSON.stringify(key)} is not a valid variable name in ${JSON.stringify(arg)}; use letters, digits and _ as in memory=512`,
    );
  }
  const source = arg.slice(eq + 1);
  const lit = parseLiteral(source);
  return { key, value: lit.ok ? lit.value : source, line: 1, col, source };
}
