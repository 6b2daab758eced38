import { describe, expect, it } from 'vitest';
import { createIdGenerator, serializeEvent, utf8Length } from '../../src/event.js';
import { OutboxError } from '../../src/errors.js';

const serialize = (properties: unknown, name: unknown = 'e', max = 32_768) => serializeEvent('id1', name, 1000, 'src', undefined, properties, max);

describe('serializeEvent', () => {
  it('writes the wire form once, omitting absent fields', () => {
    const { json, bytes } = serialize({ plan: 'pro' });
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
    const { json, bytes } = serializeEvent(id, name, 1000, sourceId, stream, properties, 32_768);
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
    expect(JSON.parse(serialize({ v: value }).json).properties.v).toEqual(expected);
  });

  it('snapshots the caller object: later mutation does not change the event', () => {
    const properties = { n: 1 };
    const { json } = serialize(properties);
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
