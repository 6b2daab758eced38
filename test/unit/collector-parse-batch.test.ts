// The durable collector's batch parsing and gzip inflating: wire v1 through wire.ts's checks,
// the stream rule, the depth scan before JSON.parse, and a capped inflate.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateCapped } from '../../src/collector/inflate-capped.js';
import { maxStoredEventLength, parseBatch } from '../../src/collector/parse-batch.js';
import { fnv1a32, partitionOf } from '../../src/collector/partition-of.js';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const event = { id: 'e1', name: 'n', timestamp: 1 };

describe('parseBatch', () => {
  it('keeps only wire v1 fields and puts every event in the request stream', () => {
    const parsed = parseBatch(bytes({ sentAt: 1, events: [{ ...event, sourceId: 's', properties: { a: 1 }, extra: true }] }), 'web');
    expect(parsed).toEqual({ ok: true, events: [{ event: { ...event, sourceId: 's', stream: 'web', properties: { a: 1 } }, data: '{"id":"e1","name":"n","timestamp":1,"sourceId":"s","stream":"web","properties":{"a":1}}' }] });
  });

  it('strips a byte order mark', () => {
    expect(parseBatch(bytes('\ufeff' + JSON.stringify({ events: [event] })), undefined)).toMatchObject({ ok: true });
  });

  it.each([
    ['an event of another stream than the request', { events: [{ ...event, stream: 'server' }] }, 'web', 'stream_mismatch'],
    ['an event naming a stream in a request that names none', { events: [{ ...event, stream: 'server' }] }, undefined, 'stream_mismatch'],
    ['properties 33 deep', { events: [{ ...event, properties: JSON.parse('{"a":'.repeat(33) + '1' + '}'.repeat(33)) }] }, undefined, 'too_deep'],
    ['1001 events', { events: Array.from({ length: 1001 }, () => event) }, undefined, 'too_large'],
    ['an event over the stored limit', { events: [{ ...event, properties: { pad: 'x'.repeat(maxStoredEventLength) } }] }, undefined, 'too_large'],
  ])('refuses %s', (_, body, stream, code) => {
    expect(parseBatch(bytes(body), stream)).toMatchObject({ ok: false, code });
  });

  it('accepts properties 32 deep, and brackets inside strings do not count', () => {
    const deep = JSON.parse('{"a":'.repeat(32) + '"[[[[{{{{"' + '}'.repeat(32));
    expect(parseBatch(bytes({ events: [{ ...event, properties: deep }] }), undefined)).toMatchObject({ ok: true });
  });
});

describe('inflateCapped', () => {
  const json = bytes({ events: [event] });

  it('inflates gzip under the cap', () => {
    const out = inflateCapped(gzipSync(json), 1000);
    expect(out.kind).toBe('ok');
    expect(new TextDecoder().decode((out as { bytes: Uint8Array }).bytes)).toBe(new TextDecoder().decode(json));
  });

  it('stops a bomb at the cap: 64 MiB of zeros are never inflated', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const heapBefore = process.memoryUsage().arrayBuffers;
    expect(inflateCapped(bomb, 1024 * 1024)).toMatchObject({ kind: 'too_large' });
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(16 * 1024 * 1024);
  });

  it.each([
    ['cut in the header', (g: Buffer) => g.subarray(0, 10)],
    ['cut in the data', (g: Buffer) => g.subarray(0, 25)],
    ['cut in the trailer', (g: Buffer) => g.subarray(0, g.length - 2)],
    ['garbage after the magic bytes', () => Buffer.from([0x1f, 0x8b, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])],
  ])('bad_gzip when %s', (_, cut) => {
    expect(inflateCapped(cut(gzipSync(json)), 1000)).toMatchObject({ kind: 'bad_gzip' });
  });
});

describe('partitionOf', () => {
  it('is FNV-1a over UTF-8, as the reference collector partitions, and stable', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(partitionOf(undefined, 4)).toBe(partitionOf('', 4));
    // 'é' hashes its two UTF-8 bytes (0xc3 0xa9), not its one UTF-16 code unit.
    let hash = 0x811c9dc5;
    for (const byte of [0xc3, 0xa9]) hash = Math.imul(hash ^ byte, 0x01000193);
    expect(fnv1a32('é')).toBe(hash >>> 0);
    expect(partitionOf('é', 16)).toBe((hash >>> 0) % 16);
  });
});
