// The safe xm reader: every accepted Python construct, and every refused one with its exact
// file:line:col, because that location is what a user fixing a config reads first.

import { describe, expect, test } from 'vitest';
import {
  MAX_EXPANDED_SIZE,
  XmFloat,
  XmSyntaxError,
  parseOverride,
  parseXm,
  xmLookup,
  type XmValue,
} from '../../engine/config/index.js';

function values(text: string): Record<string, XmValue> {
  const out: Record<string, XmValue> = {};
  for (const a of parseXm(text, 't.cfg').assignments) out[a.key] = a.value;
  return out;
}

function value(text: string): XmValue {
  return values(`x = ${text}\n`).x as XmValue;
}

function syntaxError(text: string, file = 'dom.cfg'): XmSyntaxError {
  try {
    parseXm(text, file);
  } catch (e) {
    if (e instanceof XmSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('accepted values', () => {
  test('strings in every quoting style', () => {
    expect(value(`'single'`)).toBe('single');
    expect(value(`"double"`)).toBe('double');
    expect(value(`'''tri\nple'''`)).toBe('tri\nple');
    expect(value(`"""it's "quoted" """`)).toBe(`it's "quoted" `);
    expect(value(`u'unicode prefix'`)).toBe('unicode prefix');
    expect(value(`''`)).toBe('');
  });

  test('escapes follow Python 3', () => {
    expect(value(String.raw`"a\nb\tc\\d\'e\"f"`)).toBe('a\nb\tc\\d\'e"f');
    expect(value(String.raw`"\x41\x7e\101\0"`)).toBe('A~A\0');
    expect(value(String.raw`"\u00e9\U0001F600"`)).toBe('é😀');
    expect(value(String.raw`"\r\a\b\f\v"`)).toBe('\r\x07\b\f\v');
    // Unknown escapes keep their backslash, as Python does.
    expect(value(String.raw`"C:\dir\q"`)).toBe('C:\\dir\\q');
    expect(value('"one \\\ntwo"')).toBe('one two');
  });

  test('raw strings keep backslashes', () => {
    expect(value(String.raw`r"\n\d+"`)).toBe('\\n\\d+');
    expect(value(String.raw`R'a\'b'`)).toBe("a\\'b");
    expect(value(String.raw`r"""x\y"""`)).toBe('x\\y');
  });

  test('adjacent strings are concatenated, across lines inside brackets', () => {
    expect(value(`"a" 'b' r"\\c"`)).toBe('ab\\c');
    expect(value(`("console=ttyS0 "\n     "quiet")`)).toBe('console=ttyS0 quiet');
  });

  test('ints: decimal, hex, octal, binary, negatives, underscores, Python 2 long', () => {
    expect(value('42')).toBe(42);
    expect(value('0')).toBe(0);
    expect(value('000')).toBe(0);
    expect(value('0x1F')).toBe(31);
    expect(value('0o755')).toBe(493);
    expect(value('0b101')).toBe(5);
    expect(value('-12')).toBe(-12);
    expect(value('- 12')).toBe(-12);
    expect(value('+7')).toBe(7);
    expect(value('1_048_576')).toBe(1048576);
    expect(value('512L')).toBe(512);
    expect(value('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('floats stay floats, even when whole', () => {
    expect(value('1.0')).toEqual(new XmFloat(1));
    expect(value('1.5')).toEqual(new XmFloat(1.5));
    expect(value('.5')).toEqual(new XmFloat(0.5));
    expect(value('2.')).toEqual(new XmFloat(2));
    expect(value('1e3')).toEqual(new XmFloat(1000));
    expect(value('-2.5E-3')).toEqual(new XmFloat(-0.0025));
    expect(value('1e999')).toEqual(new XmFloat(Infinity));
  });

  test('True, False, None', () => {
    expect(values('a = True\nb = False\nc = None\n')).toEqual({ a: true, b: false, c: null });
  });

  test('lists and tuples, nested, with trailing commas', () => {
    expect(value('[]')).toEqual([]);
    expect(value('[ ]')).toEqual([]);
    expect(value('[1, "two", [3, (4, 5)], ]')).toEqual([1, 'two', [3, [4, 5]]]);
    expect(value('()')).toEqual([]);
    expect(value('(1,)')).toEqual([1]);
    // Parentheses without a comma only group, as in Python.
    expect(value('("a")')).toBe('a');
    expect(value('1, 2')).toEqual([1, 2]);
    expect(value('1,')).toEqual([1]);
  });

  test('comments, blank lines, semicolons and continuation lines', () => {
    const text = [
      '# a comment',
      '',
      'name = "web1"   # trailing comment',
      'memory = 512; vcpus = 2;',
      'disk = [ "phy:/dev/vg/a,xvda,w",  # first',
      '         # between items',
      '         "phy:/dev/vg/b,xvdb,w" ]',
      'extra = "a" \\',
      '        "b"',
      '   # an indented comment line is fine',
      '',
    ].join('\n');
    expect(values(text)).toEqual({
      name: 'web1',
      memory: 512,
      vcpus: 2,
      disk: ['phy:/dev/vg/a,xvda,w', 'phy:/dev/vg/b,xvdb,w'],
      extra: 'ab',
    });
  });

  test('CRLF and CR line endings and a byte-order mark', () => {
    expect(values('\uFEFFa = 1\r\nb = "x"\rc = 3')).toEqual({ a: 1, b: 'x', c: 3 });
  });

  test('names assigned earlier are substituted, as copies', () => {
    const f = parseXm('br = "xenbr0"\nvifname = "bridge=" \nv = [br, [br]]\nw = v\n', 't.cfg');
    expect(xmLookup(f, 'v')?.value).toEqual(['xenbr0', ['xenbr0']]);
    expect(xmLookup(f, 'w')?.value).toEqual(['xenbr0', ['xenbr0']]);
    expect(xmLookup(f, 'w')?.value).not.toBe(xmLookup(f, 'v')?.value);
  });

  test('a later assignment overrides an earlier one; both are recorded with positions', () => {
    const f = parseXm('memory = 128\nname = "a"\nmemory = 256\n', 't.cfg');
    expect(f.assignments.map((a) => [a.key, a.value, a.line, a.col])).toEqual([
      ['memory', 128, 1, 1],
      ['name', 'a', 2, 1],
      ['memory', 256, 3, 1],
    ]);
    expect(xmLookup(f, 'memory')?.value).toBe(256);
    expect(xmLookup(f, 'nothing')).toBeUndefined();
  });

  test('columns of statements after semicolons, counting code points', () => {
    const f = parseXm('a = "😀"; b = 2\n', 't.cfg');
    expect(f.assignments[1]).toMatchObject({ key: 'b', line: 1, col: 10 });
  });

  test('an empty file and a comment-only file have no assignments', () => {
    expect(parseXm('', 'e.cfg')).toEqual({ file: 'e.cfg', assignments: [] });
    expect(parseXm('# nothing\n\n', 'e.cfg').assignments).toEqual([]);
  });

  test('soft keywords are ordinary keys', () => {
    expect(values('type = "hvm"\nmatch = 1\nprint = 2\n')).toEqual({ type: 'hvm', match: 1, print: 2 });
  });
});

describe('refused constructs, with file:line:col', () => {
  const cases: Array<[string, string, number, number, RegExp]> = [
    ["name = __import__('os').system('x')", 'import via call', 1, 8, /^function calls are not allowed in a config file; only values such as "text", 42, True or \[\.\.\.\]$/],
    ["__import__('os').system('x')", 'bare call statement', 1, 1, /function calls are not allowed/],
    ["name = 'a'\nx = open('/etc/passwd').read()", 'open().read()', 2, 5, /function calls are not allowed/],
    ['import os', 'import', 1, 1, /^import statements are not allowed in a config file/],
    ['from os import system', 'from import', 1, 1, /^import statements are not allowed/],
    ['x = 1 + "a"', 'adding a number and a string', 1, 7, /^cannot add 'int' and 'str'; to put a number into a string write "text%d" % n$/],
    ['x = "%d" % "a"', 'formatting a string as a number', 1, 10, /^%d format: a number is required, not str$/],
    ['x = "%s %s" % (1,)', 'too few format arguments', 1, 13, /^not enough arguments for format string$/],
    ['x = "%s" % (1, 2)', 'too many format arguments', 1, 10, /^not all arguments converted during string formatting$/],
    ['x = "%(a)s" % 1', 'format by key', 1, 13, /needs a dict/],
    ['x = 1 / 0', 'division by zero', 1, 7, /^division by zero$/],
    ['x = "a" * 9999999999', 'huge repetition', 1, 9, /larger than a domain config can be/],
    ['x = 1 << 2', 'shift', 1, 7, /^operators such as '<<' are not allowed in a config file; only \+ - \* \/ \/\/ % \*\* work on values$/],
    ['x = "a" + y', 'an undefined name in an expression', 1, 11, /^name 'y' is not defined; assign it on an earlier line, or pass y=\.\.\. on the command line$/],
    ['x = ~1', 'bitwise not', 1, 5, /operators such as '~'/],
    ['exec("import os")', 'exec call', 1, 1, /function calls are not allowed/],
    ['exec "import os"', 'python 2 exec statement', 1, 1, /^'exec' statements are not allowed/],
    ['print "hi"', 'python 2 print statement', 1, 1, /^'print' statements are not allowed/],
    ['x = f"{open(1)}"', 'f-string', 1, 5, /^f-strings are not allowed in a config file \(they run code\)/],
    ['x = rf"{a}"', 'raw f-string', 1, 5, /f-strings are not allowed/],
    ['x = b"bytes"', 'bytes literal', 1, 5, /^bytes literals/],
    ['x = {"a": 1}', 'dict', 1, 5, /^dicts and sets \(\{\.\.\.\}\) are not allowed/],
    ['x = {1, 2}', 'set', 1, 5, /dicts and sets/],
    ['x = lambda: 1', 'lambda', 1, 5, /^lambda expressions are not allowed/],
    ['x = os.path', 'attribute access', 1, 7, /^attribute access \('\.path'\) is not allowed/],
    ["os.system('x')", 'attribute statement', 1, 3, /attribute access \('\.system'\)/],
    ['x = "a".join([])', 'method on a literal', 1, 8, /attribute access \('\.join'\)/],
    ['x = [1][0]', 'indexing', 1, 8, /^indexing and slicing/],
    ['if True: x = 1', 'if statement', 1, 1, /^'if' statements are not allowed/],
    ['for i in [1]: pass', 'for loop', 1, 1, /^'for' statements are not allowed/],
    ['def f(): pass', 'def', 1, 1, /^function definitions \(def f\) are not allowed/],
    ['def f(v, x):\n    return os.system(x)\nname = "a"', 'def never named as a check', 1, 1, /^function definitions \(def f\) are not allowed/],
    ["xm_vars.var('vmid')\nxm_vars.check()", 'xm_vars variable not given', 1, 1, /^this file needs the variable vmid, declared with Xen's xm_vars idiom; pass vmid=N on the command line, as in: xm create dom\.cfg vmid=1$/],
    ["xm_vars.env['x'] = 1", 'other xm_vars use', 1, 1, /^only xm_vars\.var\(\.\.\.\) and xm_vars\.check\(\) of Xen's xm_vars idiom are allowed/],
    ["xm_vars.var('vmid', check=os.system)", 'check naming no def', 1, 27, /^check= must name a function defined earlier/],
    ['class A: pass', 'class', 1, 1, /^'class' statements are not allowed/],
    ['while 1: pass', 'while', 1, 1, /'while' statements/],
    ['with open("x") as f: pass', 'with', 1, 1, /'with' statements/],
    ['del name', 'del', 1, 1, /'del' statements/],
    ['x = 1 if a else 2', 'conditional expression', 1, 7, /^conditional expressions/],
    ['x = [i for i in y]', 'comprehension', 1, 8, /^comprehensions/],
    ['x = 1 and 2', 'boolean operator', 1, 7, /operators such as 'and'/],
    ['x = not 1', 'not', 1, 5, /operators such as 'not'/],
    ['x = y', 'undefined name', 1, 5, /^name 'y' is not defined/],
    ['x = x', 'self reference', 1, 5, /^name 'x' is not defined/],
    ['x = "abc', 'unterminated string', 1, 5, /^unterminated string/],
    ["x = 'abc\n'", 'string broken by a newline', 1, 5, /^unterminated string/],
    ['x = """abc\n\n', 'unterminated triple-quoted string', 1, 5, /^unterminated triple-quoted string$/],
    ['x = [1, 2', 'unbalanced bracket at end of file', 1, 5, /^'\[' was never closed$/],
    ['x = [1, 2\ny = 3\n', 'bracket swallowing the next line', 1, 5, /^'\[' was never closed$/],
    ['x = [1, 2)', 'mismatched bracket', 1, 10, /^'\)' does not match '\[' opened at line 1 col 5$/],
    ['x = 1]', 'unmatched closer', 1, 6, /^unmatched '\]'$/],
    ['x = [1 2]', 'missing comma', 1, 8, /^expected ',' or '\]' after a list item, got '2'$/],
    ['x = 1 2', 'two values', 1, 7, /^unexpected '2' after the value; put each assignment on its own line$/],
    ['x =', 'missing value', 1, 4, /^expected a value, got the end of the line/],
    ['x', 'bare name', 1, 2, /^expected '=' after 'x'/],
    ['"just a string"', 'bare string', 1, 1, /^expected a name at the start of the line/],
    ['x += 1', 'augmented assignment', 1, 3, /^augmented assignment '\+=' is not allowed/],
    ['x = y = 1', 'chained assignment', 1, 7, /^chained assignments/],
    ['a, b = 1, 2', 'tuple unpacking', 1, 2, /^only one name can be assigned per line/],
    ['x: int = 1', 'annotation', 1, 2, /^type annotations are not allowed/],
    ['x = 1j', 'complex number', 1, 5, /^complex numbers/],
    ['x = 0777', 'python 2 octal', 1, 5, /^leading zeros are not allowed in '0777'; write 0o777/],
    ['x = 12abc', 'bad number', 1, 5, /^invalid number '12abc'$/],
    ['x = 99999999999999999999', 'huge int', 1, 5, /^the number 99999999999999999999 is too large/],
    ['x = $y', 'stray character', 1, 5, /^unexpected character '\$'$/],
    ['x = `1`', 'python 2 backticks', 1, 5, /operators such as '`'/],
    ['  x = 1', 'indentation', 1, 3, /^unexpected indentation/],
    ['x = 1\n    y = 2', 'indented second line', 2, 5, /^unexpected indentation/],
    ['x = 1 \\ y', 'text after a continuation backslash', 1, 7, /^unexpected character after line continuation/],
    ['x = "\\xZZ"', 'bad hex escape', 1, 6, /^invalid escape in string: \\xNN needs 2 hex digits$/],
    ['x = "\\N{DASH}"', 'named escape', 1, 6, /^named escapes/],
    ['True = 1', 'assigning a keyword', 1, 1, /^'True' is a Python keyword/],
    ['@decorator', 'decorator', 1, 1, /^decorators are not allowed/],
    ['x = ...', 'ellipsis', 1, 5, /operators such as '\.\.\.'/],
    ['x = 1 == 1', 'comparison', 1, 7, /operators such as '=='/],
    ['x = [1] & 3', 'bitwise and', 1, 9, /operators such as '&'/],
    ['x = (yield)', 'yield', 1, 6, /'yield' is not allowed/],
    ['x = [{}]', 'dict inside a list', 1, 6, /dicts and sets/],
    ['; x = 1', 'leading semicolon', 1, 1, /expected a name at the start of the line, got ';'/],
    ['x = 1\u0000', 'NUL byte', 1, 6, /NUL character/],
  ];
  test.each(cases)('%s  (%s)', (text, _what, line, col, message) => {
    const e = syntaxError(text);
    expect({ line: e.line, col: e.col }).toEqual({ line, col });
    expect(e.reason).toMatch(message);
    expect(e.file).toBe('dom.cfg');
    expect(e.message).toBe(`dom.cfg:${line}:${col}: ${e.reason}`);
    expect(e.name).toBe('XmSyntaxError');
  });

  test('errors point into later lines of a multi-line file', () => {
    const e = syntaxError('name = "ok"\nmemory = 512\nkernel = os.getenv("K")\n', 'web.cfg');
    expect(e.message).toBe(
      "web.cfg:3:12: attribute access ('.getenv') is not allowed in a config file; only values such as \"text\", 42, True or [...]",
    );
  });

  test('nothing is executed: the hostile file only produces an error', () => {
    const e = syntaxError("name = __import__('os').system('touch /tmp/pwned')\n");
    expect(e.message).toMatch(/^dom\.cfg:1:8: function calls/);
  });
});

describe('limits', () => {
  test('files over 1 MiB are refused before parsing', () => {
    const big = `x = "${'a'.repeat(1024 * 1024)}"\n`;
    const e = syntaxError(big);
    expect([e.line, e.col]).toEqual([1, 1]);
    expect(e.reason).toMatch(/at most 1 MiB/);
  });

  test('a file just under 1 MiB is fine', () => {
    const text = `x = "${'a'.repeat(1024 * 1024 - 10)}"\n`;
    expect((value(text.slice(4, -1)) as string).length).toBe(1024 * 1024 - 10);
  });

  test('multi-byte characters count as bytes towards the limit', () => {
    const e = syntaxError(`x = "${'é'.repeat(600 * 1024)}"`);
    expect(e.reason).toMatch(/1 MiB/);
  });

  test('nesting up to 32 deep is fine, 33 is refused at the 33rd bracket', () => {
    expect(value(`${'['.repeat(32)}${']'.repeat(32)}`)).toBeDefined();
    const e = syntaxError(`x = ${'['.repeat(33)}${']'.repeat(33)}`);
    expect(e.reason).toBe('brackets are nested more than 32 deep');
    expect([e.line, e.col]).toEqual([1, 5 + 32]);
  });

  test('deep nesting built from names is refused too', () => {
    const lines = [`a0 = ${'['.repeat(30)}${']'.repeat(30)}`, 'a1 = [a0]', 'a2 = [a1]', 'a3 = [a2]'];
    const e = syntaxError(lines.join('\n'));
    expect(e.reason).toBe('lists are nested more than 32 deep');
    expect(e.line).toBe(4);
  });

  test('hundreds of thousands of nested brackets fail fast without overflowing the stack', () => {
    const e = syntaxError(`x = ${'('.repeat(200_000)}`);
    expect(e.reason).toMatch(/nested more than 32/);
  });

  test('names cannot be used to blow a small file up', () => {
    const lines = ['a = "' + 'x'.repeat(1000) + '"'];
    for (let i = 1; i < 40; i++) lines.push(`a${i} = [${`a${i === 1 ? '' : i - 1}, `.repeat(4)}]`);
    const e = syntaxError(lines.join('\n'));
    expect(e.reason).toMatch(/add up to more than 8 MiB/);
    expect(MAX_EXPANDED_SIZE).toBe(8 * 1024 * 1024);
  });
});

describe('parseOverride (xm create var=value)', () => {
  test('Python literals are parsed, anything else is a plain string', () => {
    expect(parseOverride('memory=64')).toMatchObject({ key: 'memory', value: 64, line: 1, col: 1 });
    expect(parseOverride('name=web1').value).toBe('web1');
    expect(parseOverride("disk=['file:/x,xvda,w']").value).toEqual(['file:/x,xvda,w']);
    expect(parseOverride('extra=console=hvc0 quiet').value).toBe('console=hvc0 quiet');
    expect(parseOverride('extra="quoted"').value).toBe('quoted');
    expect(parseOverride('kernel=/boot/vmlinuz').value).toBe('/boot/vmlinuz');
    expect(parseOverride('acpi=True').value).toBe(true);
    expect(parseOverride('cpus=0-3').value).toBe('0-3');
    // A bare tuple is not taken from the command line: `cpus=1,2` means the text.
    expect(parseOverride('cpus=1,2').value).toBe('1,2');
    expect(parseOverride('name=').value).toBe('');
    expect(parseOverride('x=__import__("os")').value).toBe('__import__("os")');
    expect(parseOverride('ratio=1.0').value).toEqual(new XmFloat(1));
  });

  test('the typed text is kept as source, and the column is passed through', () => {
    expect(parseOverride('name=0x10', 17)).toEqual({ key: 'name', value: 16, line: 1, col: 17, source: '0x10' });
  });

  test('a missing = or a bad variable name is an error at the argument', () => {
    expect(() => parseOverride('memory', 5)).toThrow(
      new XmSyntaxError('<command line>', 1, 5, '"memory" is not var=value (for example memory=512 or name=web1)'),
    );
    for (const bad of ['=1', '1x=2', 'a-b=3', 'if=1', 'a b=1']) {
      const e = (() => {
        try {
          parseOverride(bad, 3);
        } catch (err) {
          return err as XmSyntaxError;
        }
        throw new Error(`${bad} accepted`);
      })();
      expect(e).toBeInstanceOf(XmSyntaxError);
      expect(e.message).toMatch(/^<command line>:1:3: .* is not a valid variable name/);
    }
  });
});

describe('pure expressions, as Xen\'s Python evaluated them', () => {
  const v = (text: string, vars: string[] = []): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const a of parseXm(text, 'e.cfg', vars.map((x) => parseOverride(x))).assignments) out[a.key] = a.value;
    return out;
  };

  test('+ on strings, numbers and lists; arithmetic with Python 2 precedence and division', () => {
    expect(v("libdir = 'lib64'\ndm = '/usr/' + libdir + '/xen/bin/qemu-dm'")).toMatchObject({ dm: '/usr/lib64/xen/bin/qemu-dm' });
    expect(v('a = 1 + 2 * 3\nb = (1 + 2) * 3\nc = 7 / 2\nd = -7 // 2\ne = -7 % 3\nf = 2 ** 10\ng = 512 * 2 - 24\nh = -a')).toEqual({
      a: 7, b: 9, c: 3, d: -4, e: 2, f: 1024, g: 1000, h: -7,
    });
    expect(v('x = 7.0 / 2')).toEqual({ x: new XmFloat(3.5) });
    expect(v("d = ['phy:sda1,xvda,w'] + ['phy:sda2,xvdb,w']\ne = [''] * 2\nf = 'ab' * 3")).toEqual({
      d: ['phy:sda1,xvda,w', 'phy:sda2,xvdb,w'], e: ['', ''], f: 'ababab',
    });
  });

  test('% formatting: %d %s %x %05.1f %-4d %r %%, one value or a tuple', () => {
    expect(v('vmid = 3\nname = "VM%d" % vmid\ndisk = [ "phy:sda%d,sda1,w" % (7+vmid) ]\nvif = [ "ip=192.168.%d.1/24" % (vmid) ]')).toMatchObject({
      name: 'VM3', disk: ['phy:sda10,sda1,w'], vif: ['ip=192.168.3.1/24'],
    });
    expect(v('x = "%05.1f|%-4d|%x|%s|%r|%%|%+d" % (3.14159, 7, 255, [1, "a"], "q", 5)')).toEqual({ x: "003.1|7   |ff|[1, 'a']|'q'|%|+5" });
    expect(v('x = "%s" % True\ny = "%s" % None\nz = "%.2e" % 12345.678')).toEqual({ x: 'True', y: 'None', z: '1.23e+04' });
  });

  test('command-line variables are visible to the file and win over its own assignments', () => {
    expect(v('name = "VM%d" % vmid\nvmid = 9\nx = vmid', ['vmid=2'])).toMatchObject({ name: 'VM2', x: 2 });
  });

  test("Xen's xm_vars idiom: the check function is skipped, never run, and vmid comes from the command line", () => {
    const text = [
      'def vmid_check(var, val):',
      '    val = int(val)',
      '    if val <= 0:',
      '        raise ValueError',
      '    return val',
      '',
      "xm_vars.var('vmid',",
      '            use="Virtual machine id. Integer greater than 0.",',
      '            check=vmid_check)',
      'xm_vars.check()',
      'name = "VM%d" % vmid',
    ].join('\n');
    expect(v(text, ['vmid=4'])).toEqual({ name: 'VM4' });
    expect(() => v(text)).toThrow(
      /^e\.cfg:7:1: this file needs the variable vmid \(Virtual machine id\. Integer greater than 0\.\), declared with Xen's xm_vars idiom; pass vmid=N on the command line, as in: xm create e\.cfg vmid=1$/,
    );
  });

  test('command-line values are literals, never arithmetic', () => {
    expect(parseOverride('cpus=0-3').value).toBe('0-3');
    expect(parseOverride('x=2*3').value).toBe('2*3');
  });
});
