// The wire format: what each side accepts as each kind of message, and the table helpers.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineEvents,
  defineMethods,
  defineStreams,
  parseClientMessage,
  parseServerMessage,
  parseStreamAck,
  topicMatches,
} from '../../engine/protocol/common/index.js';
import type { ParamsOf, ResultOf } from '../../engine/protocol/common/index.js';

describe('client → server messages', () => {
  it.each([
    ['a request', { id: 1, method: 'domain.list' }, { kind: 'request', request: { id: 1, method: 'domain.list' } }],
    ['a request with params and a string id', { id: 'a', method: 'x.y', params: { n: 1 } }, { kind: 'request', request: { id: 'a', method: 'x.y', params: { n: 1 } } }],
    ['a JSON-RPC style request (extra key)', { jsonrpc: '2.0', id: 2, method: 'x.y' }, { kind: 'request', request: { id: 2, method: 'x.y' } }],
    ['an auth message', { auth: 'tok' }, { kind: 'auth', token: 'tok' }],
    ['a stream open', { stream: 'console.serial', params: { domain: 'web' } }, { kind: 'stream', stream: 'console.serial', params: { domain: 'web' }, token: undefined }],
    ['a stream open with token', { stream: 'vnc', token: 't' }, { kind: 'stream', stream: 'vnc', params: undefined, token: 't' }],
  ])('accepts %s', (_what, message, expected) => {
    expect(parseClientMessage(JSON.stringify(message))).toEqual(expected);
  });

  it.each([
    ['text that is not JSON', '{oops', null, 'ParseError'],
    ['an empty string', '', null, 'ParseError'],
    ['null', 'null', null, 'InvalidRequest'],
    ['a string', '"domain.list"', null, 'InvalidRequest'],
    ['a request with a negative id', '{"id":-1,"method":"a.b"}', null, 'InvalidRequest'],
    ['a request with a fractional id', '{"id":1.5,"method":"a.b"}', null, 'InvalidRequest'],
    ['a request with an empty method', '{"id":3,"method":""}', 3, 'InvalidRequest'],
    ['a request without method', '{"id":4}', 4, 'InvalidRequest'],
    ['an auth message with a number', '{"auth":5}', null, 'InvalidRequest'],
    ['a stream open without kind', '{"stream":""}', null, 'InvalidRequest'],
    ['a reply sent by a client', '{"result":1}', null, 'InvalidRequest'],
  ])('refuses %s', (_what, text, id, code) => {
    expect(parseClientMessage(text)).toMatchObject({ kind: 'invalid', id, code });
  });
});

describe('server → client messages', () => {
  it.each([
    ['a result', { id: 1, result: [1] }, { kind: 'result', id: 1, result: [1] }],
    ['a null result', { id: 1, result: null }, { kind: 'result', id: 1, result: null }],
    ['an error', { id: 'a', error: { code: 'NoSuchDomain', message: 'no' } }, { kind: 'error', id: 'a', error: { code: 'NoSuchDomain', message: 'no' } }],
    ['a connection-level error', { id: null, error: { code: 'TooLarge', message: 'big', data: 1 } }, { kind: 'error', id: null, error: { code: 'TooLarge', message: 'big', data: 1 } }],
    ['an event', { event: 'domain.state', data: { a: 1 } }, { kind: 'event', event: 'domain.state', data: { a: 1 } }],
    ['an auth answer', { auth: 'ok' }, { kind: 'auth-ok' }],
  ])('accepts %s', (_what, message, expected) => {
    expect(parseServerMessage(JSON.stringify(message))).toEqual(expected);
  });

  it.each([
    ['text that is not JSON', 'nope', 'malformed-json'],
    ['an array', '[]', 'invalid-message'],
    ['an error without a code', '{"id":1,"error":{"message":"x"}}', 'invalid-message'],
    ['a result without an id', '{"result":1}', 'invalid-message'],
    ['an event without a name', '{"event":"","data":1}', 'invalid-message'],
    ['an auth answer that is not ok', '{"auth":"maybe"}', 'invalid-message'],
  ])('refuses %s', (_what, text, failure) => {
    expect(parseServerMessage(text)).toMatchObject({ kind: 'invalid', failure });
  });

  it('parses stream acks', () => {
    expect(parseStreamAck('{"ok":true}')).toEqual({ ok: true });
    expect(parseStreamAck('{"ok":false,"error":{"code":"NoSuchDomain","message":"no"}}')).toEqual({
      ok: false,
      error: { code: 'NoSuchDomain', message: 'no' },
    });
    expect(parseStreamAck('{"ok":false}')).toBeUndefined();
    expect(parseStreamAck('RFB 003.008')).toBeUndefined();
  });
});

describe('topics', () => {
  it.each([
    ['domain.state', 'domain.state', true],
    ['domain.*', 'domain.state', true],
    ['domain.*', 'domain.stats.sample', true],
    ['domain.*', 'domains.state', false],
    ['domain.*', 'domain', false],
    ['*', 'anything.at.all', true],
    ['domain.state', 'domain.stats', false],
  ])('%s matches %s: %s', (topic, event, expected) => {
    expect(topicMatches(topic, event)).toBe(expected);
  });
});

describe('tables', () => {
  it('refuses reserved and malformed names', () => {
    const spec = { params: z.void(), result: z.void(), doc: '' };
    expect(() => defineMethods({ 'events.subscribe': spec })).toThrow(/reserved/);
    expect(() => defineMethods({ 'bad name': spec })).toThrow(/dotted words/);
    expect(() => defineEvents({ 'domain.*': { data: z.void(), doc: '' } })).toThrow(/dotted words/);
    expect(() => defineStreams({ '': { params: z.void(), doc: '' } })).toThrow(/dotted words/);
  });

  it('derives params and result types from the schemas', () => {
    const table = defineMethods({
      'domain.create': {
        params: z.object({ name: z.string(), memory: z.number().optional() }),
        result: z.object({ id: z.number() }),
        doc: 'Creates a domain.',
      },
    });
    const params: ParamsOf<typeof table, 'domain.create'> = { name: 'web' };
    const result: ResultOf<typeof table, 'domain.create'> = { id: 1 };
    // @ts-expect-error name is required
    const missing: ParamsOf<typeof table, 'domain.create'> = { memory: 1 };
    expect([table, params, result, missing]).toHaveLength(4);
  });
});

describe('runtime split', () => {
  // The renderer bundles common/ and browser/: a Node import there breaks the browser build (or,
  // worse, pulls a polyfill in silently).
  const root = join(import.meta.dirname, '../../engine/protocol');
  const files = ['common', 'browser'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(root, dir, name)),
  );

  it.each(files.map((file) => [file.slice(root.length + 1), file]))('%s uses no Node API', (_name, file) => {
    const source = readFileSync(file, 'utf8');
    const imports = [...source.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
    for (const spec of imports) {
      expect(spec === 'zod' || spec?.startsWith('./') || spec?.startsWith('../common/')).toBe(true);
    }
    const code = source.replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\b(Buffer|process|require)\b/);
  });
});
