import { describe, expect, it } from 'vitest';
import { createIdGenerator, serializeEvent, utf8Length } from '../../src/event.js';
import { OutboxError } from '../../src/errors.js';

const serialize = (properties: unknown, name: unknown = 'e', max = 32_768) => serializeEvent('id1', name, 1000, 'src', undefined, properties, max);

describe('serializeEvent', () => {
  it('writes the wire form once, omitting absent fields', () => {
    const [json, bytes] = serialize({ plan: 'pro' });
    expect(JSON.parse(json)).toEqual({ id: 'id1', name: 'e', timestamp: 1000, sourceId: 'src', properties: { plan: 'pro' } });
    expect(bytes).toBe(new TextEncoder().encode(json).length);
  });

  it.each([
    { name: 'ascii', event: ['id1', 'e', 'src', undefined, { a: 1 }] },
    { name: 'non-ASCII name', event: ['id1', 'café ☕', 'src', undefined, { a: 1 }] },
    { name: 'non-ASCII sourceId and stream', event: ['id1', 'e', 'Zürich', 'flux→', undefined] },
    { name: 'non-ASCII nested property', event: ['id1', 'e', undefined, undefined, { deep: { text: '日本 🌍' } }] },
    { name: 'escapes and a lone surrogate', event: ['id"1', 'e\n', undefined, undefined, { s: '\ud800', q: '"\\' }] },
  ] as const)('counts UTF-8 bytes exactly: $name', ({ event: [id, name, sourceId, stream, properties] }) => {
    const [json, bytes] = serializeEvent(id, name, 1000, sourceId, stream, properties, 32_768);
    expect(bytes).toBe(new TextEncoder().encode(json).length);
  });

  it.each([
    { name: 'Date → ISO string', value: new Date(0), expected: '1970-01-01T00:00:00.000Z' },
    { name: 'BigInt → decimal string', value: 12345678901234567890n, expected: '12345678901234567890' },
    { name: 'toJSON is honoured', value: { toJSON: () => 'custom' }, expected: 'custom' },
    { name: 'Map → object', value: new Map([['a', 1]]), expected: { a: 1 } },
    { name: 'Set → array', value: new Set([1, 2]), expected: [1, 2] },
    { name: 'Error → name and message', value: new RangeError('bad'), expected: { name: 'RangeError', message: 'bad' } },
    { name: 'NaN → null (JSON)', value: NaN, expected: null },
    { name: '__proto__ own key kept as data', value: JSON.parse('{"__proto__": {"x": 1}}'), expected: JSON.parse('{"__proto__": {"x": 1}}') },
  ])('serializes sensibly: $name', ({ value, expected }) => {
    expect(JSON.parse(serialize({ v: value })[0]).properties.v).toEqual(expected);
  });

  it('snapshots the caller object: later mutation does not change the event', () => {
    const properties = { n: 1 };
    const [json] = serialize(properties);
    properties.n = 2;
    expect(JSON.parse(json).properties.n).toBe(1);
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each([
    { name: 'a cycle', properties: cyclic, code: 'invalid' },
    { name: 'a function', properties: { f: () => 1 }, code: 'invalid' },
    { name: 'a symbol', properties: { s: Symbol('x') }, code: 'invalid' },
    { name: 'an array as properties', properties: [1, 2], code: 'invalid' },
    { name: 'a string as properties', properties: 'text', code: 'invalid' },
    { name: 'an oversized event', properties: { big: 'x'.repeat(40_000) }, code: 'too_large' },
    { name: 'a throwing toJSON', properties: { v: { toJSON: () => { throw new Error('boom'); } } }, code: 'invalid' },
  ])('refuses $name with code $code', ({ properties, code }) => {
    const error = (() => {
      try {
        serialize(properties);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OutboxError);
    expect((error as OutboxError).code).toBe(code);
    expect((error as OutboxError).message).toMatch(/^\[outbox\] /);
  });

  it.each([{ name: '' }, { name: 42 }, { name: null }, { name: 'x'.repeat(300) }])('refuses the name $name', ({ name }) => {
    expect(() => serialize({}, name)).toThrow(OutboxError);
  });
});

describe('utf8Length', () => {
  it.each(['', 'ascii', 'héllo', '日本語', '🌍 emoji', 'a\u0000b', '\ud800 lone surrogate'])('matches TextEncoder for %j', (text) => {
    expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('createIdGenerator', () => {
  it('makes unique ids, also across generators', () => {
    const a = createIdGenerator();
    const b = createIdGenerator();
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) ids.add(a()).add(b());
    expect(ids.size).toBe(10_000);
  });
});

// Regression (issue 9): track() took events the collector refuses with a 400, which took the
// 99 good events of their batch along. It now checks exactly what wire.ts requires.
describe('serializeEvent checks wire format v1', () => {
  const nest = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: 1 } : { d: nest(depth - 1) });
  class Boxed {
    toJSON() {
      return 'a string';
    }
  }
  // Flat own fields, deep serialized form: its toJSON comes from the prototype.
  class DeepView {
    flag = true;
    toJSON() {
      return nest(40);
    }
  }
  it.each([
    { name: 'properties a Date', event: ['id1', 'e', undefined, undefined, new Date(0)] },
    { name: 'properties a URL', event: ['id1', 'e', undefined, undefined, new URL('https://example.com/')] },
    { name: 'properties a boxed String', event: ['id1', 'e', undefined, undefined, new String('ab')] },
    { name: 'properties whose toJSON returns a string', event: ['id1', 'e', undefined, undefined, new Boxed()] },
    { name: 'properties whose toJSON returns undefined', event: ['id1', 'e', undefined, undefined, { toJSON: () => undefined }] },
    { name: 'an id over 256 characters', event: ['x'.repeat(257), 'e', undefined, undefined, undefined] },
    { name: 'an empty id', event: ['', 'e', undefined, undefined, undefined] },
    { name: 'a name over 256 characters', event: ['id1', 'n'.repeat(257), undefined, undefined, undefined] },
    { name: 'a sourceId over 256 characters', event: ['id1', 'e', 's'.repeat(257), undefined, undefined] },
    { name: 'a stream over 128 characters', event: ['id1', 'e', undefined, 's'.repeat(129), undefined] },
    { name: 'properties nested 33 deep', event: ['id1', 'e', undefined, undefined, nest(33)] },
    { name: 'flat properties whose prototype toJSON nests 40 deep', event: ['id1', 'e', undefined, undefined, new DeepView()] },
  ] as const)('refuses $name as invalid', ({ event: [id, name, sourceId, stream, properties] }) => {
    expect(() => serializeEvent(id, name, 1000, sourceId, stream, properties, 32_768)).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it.each([
    { name: 'a timestamp past what a Date holds', timestamp: 9e15 },
    { name: 'an infinite timestamp', timestamp: Infinity },
  ])('refuses $name', ({ timestamp }) => {
    expect(() => serializeEvent('id1', 'e', timestamp, undefined, undefined, undefined, 32_768)).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it('takes what the limits allow: 256-character id and name, 32 levels of nesting', () => {
    const [json] = serializeEvent('i'.repeat(256), 'n'.repeat(256), 0, 's'.repeat(256), 't'.repeat(128), nest(32), 32_768);
    expect(JSON.parse(json).id).toHaveLength(256);
  });

  it('a Proxy whose traps throw is refused as invalid, never thrown as something else', () => {
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    expect(() => serialize(hostile)).toThrow(OutboxError);
  });
});
