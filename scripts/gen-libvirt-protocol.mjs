#!/usr/bin/env node
// @ts-check
// Generates engine/libvirt/generated/remote-protocol.ts from libvirt's remote_protocol.x: XDR type
// descriptors (read by engine/libvirt/xdr.ts), TypeScript types for every struct, and the table of
// procedures with their args/ret/msg types. Run it after updating the .x file:
//   node scripts/gen-libvirt-protocol.mjs [path/to/remote_protocol.x]
// The output is checked in so a build never needs libvirt's source.
//
// engine/libvirt/protocol/remote_protocol.x is libvirt's own file (LGPL-2.1+, header kept), taken
// from libvirt 4.x's tree (procedures up to 386, REMOTE_PROC_DOMAIN_SET_BLOCK_THRESHOLD): libvirt
// only appends procedures, so every number here means the same to libvirt 9 and later. To use
// newer procedures, copy src/remote/remote_protocol.x from a current libvirt and run this script.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = process.argv[2] ?? join(root, 'engine/libvirt/protocol/remote_protocol.x');
const output = join(root, 'engine/libvirt/generated/remote-protocol.ts');

/** @typedef {{ k: string, [key: string]: any }} Desc  an XDR descriptor (engine/libvirt/xdr.ts's XdrType) */
/** @typedef {[string | null, Desc]} Decl  a declaration: name (null for void) and type */

// Constants the .x file takes from libvirt's public C headers (libvirt-host.h, libvirt-common.h).
/** @type {Record<string, number>} */
const external = {
  VIR_UUID_BUFLEN: 16,
  VIR_SECURITY_MODEL_BUFLEN: 257,
  VIR_SECURITY_LABEL_BUFLEN: 4097,
  VIR_SECURITY_DOI_BUFLEN: 257,
  VIR_TYPED_PARAM_INT: 1,
  VIR_TYPED_PARAM_UINT: 2,
  VIR_TYPED_PARAM_LLONG: 3,
  VIR_TYPED_PARAM_ULLONG: 4,
  VIR_TYPED_PARAM_DOUBLE: 5,
  VIR_TYPED_PARAM_BOOLEAN: 6,
  VIR_TYPED_PARAM_STRING: 7,
};

// ---- lexer ----
/** @param {string} text @returns {string[]} */
function tokenize(text) {
  const src = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('%'))
    .join('\n');
  const tokens = [];
  const re = /\s*(0x[0-9a-fA-F]+|-?\d+|[A-Za-z_][A-Za-z0-9_]*|[{}()[\]<>;:,=*])/y;
  let m;
  let pos = 0;
  for (;;) {
    re.lastIndex = pos;
    m = re.exec(src);
    if (!m) {
      if (src.slice(pos).trim() !== '') throw new Error(`cannot lex near: ${src.slice(pos, pos + 60)}`);
      break;
    }
    tokens.push(m[1] ?? '');
    pos = re.lastIndex;
  }
  return tokens;
}

// ---- parser ----
/** @type {Record<string, number>} */
const consts = { ...external };
/** @type {Map<string, Desc>} name -> descriptor */
const typedefs = new Map();
/** @type {Map<string, Decl[]>} name -> fields */
const structs = new Map();
/** @type {Map<string, { disc: string, arms: [number, string | null, Desc][], dflt: Decl | null }>} */
const unions = new Map();
/** @type {Map<string, [string, number][]>} name -> members */
const enums = new Map();
/** @type {string[]} declaration order of named types */
const order = [];

/** @param {string[]} tokens */
function parse(tokens) {
  let i = 0;
  const peek = () => tokens[i] ?? '';
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new Error('remote_protocol.x ends in the middle of a declaration');
    return t;
  };
  /** @param {string} t */
  const expect = (t) => {
    const got = next();
    if (got !== t) throw new Error(`expected ${t}, got ${got} at token ${i}`);
  };
  /** @param {string} t @returns {number} */
  const value = (t) => {
    if (/^-?\d+$/.test(t) || /^0x/.test(t)) return Number(t);
    const c = consts[t];
    if (c !== undefined) return c;
    throw new Error(`unknown constant ${t}`);
  };

  /** @returns {string} */
  function baseType() {
    let t = next();
    if (t === 'unsigned') {
      const n = peek();
      if (n === 'int' || n === 'hyper' || n === 'char' || n === 'short' || n === 'long') {
        next();
        t = `unsigned ${n}`;
      } else t = 'unsigned int';
    }
    if (t === 'struct' || t === 'enum' || t === 'union') t = next();
    return t;
  }

  /** @param {string} t @returns {Desc} */
  function prim(t) {
    switch (t) {
      case 'int': case 'short': case 'char': case 'long': return { k: 'int' };
      case 'unsigned int': case 'unsigned short': case 'unsigned char': case 'unsigned long': return { k: 'uint' };
      case 'hyper': return { k: 'hyper' };
      case 'unsigned hyper': return { k: 'uhyper' };
      case 'double': return { k: 'double' };
      case 'float': return { k: 'float' };
      case 'bool': return { k: 'bool' };
      default: return { k: 'ref', name: t };
    }
  }

  // One declaration: `type name`, `type name[N]`, `type name<N>`, `type *name`, `void`.
  /** @returns {Decl} */
  function declaration() {
    const t = baseType();
    if (t === 'void') return [null, { k: 'void' }];
    let optional = false;
    if (peek() === '*') {
      next();
      optional = true;
    }
    const name = next();
    /** @type {Desc} */
    let d;
    if (peek() === '[') {
      next();
      const n = value(next());
      expect(']');
      d = t === 'opaque' ? { k: 'opaque', fixed: n } : { k: 'array', of: prim(t), fixed: n };
    } else if (peek() === '<') {
      next();
      let max;
      if (peek() !== '>') max = value(next());
      expect('>');
      if (t === 'opaque') d = { k: 'opaque', max };
      else if (t === 'string') d = { k: 'string', max };
      else d = { k: 'array', of: prim(t), max };
    } else d = prim(t);
    if (optional) d = { k: 'optional', of: d };
    return [name, d];
  }

  while (i < tokens.length) {
    const t = next();
    if (t === 'const') {
      const name = next();
      expect('=');
      consts[name] = value(next());
      expect(';');
    } else if (t === 'typedef') {
      const [name, d] = declaration();
      expect(';');
      if (name === null) throw new Error('typedef of void');
      typedefs.set(name, d);
      order.push(name);
    } else if (t === 'enum') {
      const name = next();
      expect('{');
      /** @type {[string, number][]} */
      const members = [];
      while (peek() !== '}') {
        const m = next();
        expect('=');
        const v = value(next());
        consts[m] = v;
        members.push([m, v]);
        if (peek() === ',') next();
      }
      expect('}');
      expect(';');
      enums.set(name, members);
      order.push(name);
    } else if (t === 'struct') {
      const name = next();
      expect('{');
      /** @type {Decl[]} */
      const fields = [];
      while (peek() !== '}') {
        fields.push(declaration());
        expect(';');
      }
      expect('}');
      expect(';');
      structs.set(name, fields);
      order.push(name);
    } else if (t === 'union') {
      const name = next();
      expect('switch');
      expect('(');
      baseType();
      const disc = next();
      expect(')');
      expect('{');
      /** @type {[number, string | null, Desc][]} */
      const arms = [];
      /** @type {Decl | null} */
      let dflt = null;
      while (peek() !== '}') {
        const kw = next();
        if (kw === 'case') {
          const v = value(next());
          expect(':');
          const [fname, d] = declaration();
          expect(';');
          arms.push([v, fname, d]);
        } else if (kw === 'default') {
          expect(':');
          const [fname, d] = declaration();
          expect(';');
          dflt = [fname, d];
        } else throw new Error(`unexpected ${kw} in union ${name}`);
      }
      expect('}');
      expect(';');
      unions.set(name, { disc, arms, dflt });
      order.push(name);
    } else throw new Error(`unexpected top-level token ${t} at ${i}`);
  }
}

parse(tokenize(readFileSync(input, 'utf8')));

// ---- emit ----
/** @param {string} s */
const pascal = (s) => s.split('_').filter(Boolean).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
/** @param {string} s */
const procName = (s) => pascal(s.replace(/^REMOTE_PROC_/, '').toLowerCase());

/** @param {Desc} d @returns {string} */
function tsType(d) {
  switch (d.k) {
    case 'int': case 'uint': case 'double': case 'float': return 'number';
    case 'hyper': case 'uhyper': return 'bigint';
    case 'bool': return 'boolean';
    case 'string': return 'string';
    case 'opaque': return 'Buffer';
    case 'void': return 'void';
    case 'optional': return `${tsType(d.of)} | null`;
    case 'array': {
      const inner = tsType(d.of);
      return inner.includes('|') ? `(${inner})[]` : `${inner}[]`;
    }
    case 'ref': {
      if (enums.has(d.name)) return 'number';
      return pascal(d.name);
    }
    default: throw new Error(`no TS type for ${JSON.stringify(d)}`);
  }
}

/** @type {string[]} */
const lines = [];
lines.push('// GENERATED by scripts/gen-libvirt-protocol.mjs from engine/libvirt/protocol/remote_protocol.x.');
lines.push('// Do not edit: change the generator or the .x file and run `node scripts/gen-libvirt-protocol.mjs`.');
lines.push("import type { XdrType } from '../xdr.js';");
lines.push('');
lines.push(`export const REMOTE_PROGRAM = ${consts.REMOTE_PROGRAM};`);
lines.push(`export const REMOTE_PROTOCOL_VERSION = ${consts.REMOTE_PROTOCOL_VERSION};`);
lines.push('');

for (const name of order) {
  const typedef = typedefs.get(name);
  const struct = structs.get(name);
  const u = unions.get(name);
  const members = enums.get(name);
  if (typedef) {
    lines.push(`export type ${pascal(name)} = ${tsType(typedef)};`);
  } else if (struct) {
    lines.push(`export interface ${pascal(name)} {`);
    for (const [f, d] of struct) lines.push(`  ${f}: ${tsType(d)};`);
    lines.push('}');
  } else if (u) {
    const arms = u.arms.map(([v, f, d]) => `{ ${u.disc}: ${v}; ${f ? `${f}: ${tsType(d)}` : ''} }`);
    lines.push(`export type ${pascal(name)} =\n  | ${arms.join('\n  | ')};`);
  } else if (members) {
    lines.push(`export const ${pascal(name)} = {`);
    for (const [m, v] of members) lines.push(`  ${m}: ${v},`);
    lines.push('} as const;');
  }
}
lines.push('');

// Descriptors: everything xdr.ts needs to encode and decode, by .x name.
/** @type {Record<string, Desc>} */
const desc = {};
for (const [n, d] of typedefs) desc[n] = d;
for (const [n, fields] of structs) desc[n] = { k: 'struct', fields };
for (const [n, u] of unions) {
  desc[n] = {
    k: 'union',
    disc: u.disc,
    arms: Object.fromEntries(u.arms.map(([v, f, d]) => [v, [f, d]])),
    ...(u.dflt ? { dflt: u.dflt } : {}),
  };
}
for (const n of enums.keys()) desc[n] = { k: 'int' };
lines.push('export const types: Record<string, XdrType> = {');
for (const [n, d] of Object.entries(desc)) lines.push(`  ${n}: ${JSON.stringify(d)},`);
lines.push('};');
lines.push('');

// Procedures: number and the names of their args, ret and (for events) msg types.
const procs = enums.get('remote_procedure') ?? [];
lines.push('export interface ProcedureInfo { num: number; args?: string; ret?: string; msg?: string }');
lines.push('export const procedures = {');
/** @type {string[]} */
const iface = [];
for (const [m, v] of procs) {
  const base = `remote_${m.replace(/^REMOTE_PROC_/, '').toLowerCase()}`;
  /** @type {{ num: number, args?: string, ret?: string, msg?: string }} */
  const info = { num: v };
  if (structs.has(`${base}_args`)) info.args = `${base}_args`;
  if (structs.has(`${base}_ret`)) info.ret = `${base}_ret`;
  if (structs.has(`${base}_msg`)) info.msg = `${base}_msg`;
  const p = procName(m);
  lines.push(`  ${p}: ${JSON.stringify(info)},`);
  iface.push(
    `  ${p}: { args: ${info.args ? pascal(info.args) : 'void'}; ret: ${info.ret ? pascal(info.ret) : 'void'}; msg: ${info.msg ? pascal(info.msg) : 'void'} };`,
  );
}
lines.push('} as const satisfies Record<string, ProcedureInfo>;');
lines.push('');
lines.push('/** Every procedure with the TypeScript types of its args, ret and event message. */');
lines.push('export interface Procedures {');
lines.push(...iface);
lines.push('}');
lines.push('export type ProcedureName = keyof Procedures;');
lines.push('');

writeFileSync(output, lines.join('\n'));
console.log(`wrote ${output}: ${order.length} types, ${procs.length} procedures`);
