// Hostile and random input: track() never throws into the host page, every refusal is counted
// and reported, and not one valid event queued around the bad ones is lost.
import { describe, expect, it } from 'vitest';
import { createTracker, type OutboxError } from '../../src/index.js';
import { eventsOf, fastRetry, useCollector } from './collector-fixture.js';

const collector = useCollector();

// Deterministic PRNG (mulberry32), so a failure reproduces.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Point {
  constructor(public x: number, public y: number) {}
}

/** A random value and whether tracking it must be refused. */
function randomValue(random: () => number, depth = 0): { value: unknown; bad: boolean } {
  const pick = Math.floor(random() * 18);
  switch (pick) {
    case 0: return { value: random() * 1e6, bad: false };
    case 1: return { value: 'text-' + String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(random() * 0xd7ff))), bad: false };
    case 2: return { value: BigInt(Math.floor(random() * 1e9)) * 10n ** 12n, bad: false };
    case 3: return { value: new Date(Math.floor(random() * 2e12)), bad: false };
    case 4: return { value: null, bad: false };
    case 5: return { value: undefined, bad: false };
    case 6: return { value: () => 1, bad: true };
    case 7: return { value: Symbol('s'), bad: true };
    case 8: return { value: new Point(1, 2), bad: false };
    case 9: return { value: new Map([['k', 1]]), bad: false };
    case 10: return { value: new Uint8Array([1, 2, 3]), bad: false };
    case 11: return { value: JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}'), bad: false };
    case 12: return { value: Object.create(null), bad: false };
    case 13: return { value: NaN, bad: false };
    case 14: return { value: -0, bad: false };
    case 15: return { value: true, bad: false };
    default: {
      if (depth > 3) return { value: 'leaf', bad: false };
      const child = randomValue(random, depth + 1);
      return random() < 0.5 ? { value: [child.value], bad: child.bad } : { value: { nested: child.value }, bad: child.bad };
    }
  }
}

describe('bad input', () => {
  it('never throws on thousands of random values, refuses the bad ones and delivers every good one', async () => {
    const errors: OutboxError[] = [];
    const t = createTracker({ endpoint: collector().endpoint, storage: false, retry: fastRetry, onError: (e) => errors.push(e) });
    const random = prng(42);
    const good: number[] = [];
    let bad = 0;
    for (let i = 0; i < 5000; i++) {
      const { value, bad: isBad } = randomValue(random);
      expect(() => t.track('fuzz', { i, value })).not.toThrow();
      if (isBad) bad++;
      else good.push(i);
    }
    expect(await t.flush(20_000)).toBe(true);
    const delivered = eventsOf(collector()).map((e) => e.properties!.i as number).sort((a, b) => a - b);
    expect(delivered).toEqual(good);
    expect(t.stats().dropped.invalid).toBe(bad);
    expect(errors.filter((e) => e.code === 'invalid')).toHaveLength(bad);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined(); // no prototype pollution
    await t.close();
  });

  it('refuses cycles, oversized events, bad names and bad options, keeping the queue intact', async () => {
    const errors: OutboxError[] = [];
    const t = createTracker({ endpoint: collector().endpoint, storage: false, maxEventBytes: 2048, retry: fastRetry, onError: (e) => errors.push(e) });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const calls: [string, () => void][] = [
      ['cycle', () => t.track('c', cyclic)],
      ['huge string', () => t.track('c', { s: 'x'.repeat(10_000) })],
      ['empty name', () => t.track('', {})],
      ['number name', () => t.track(42 as unknown as string)],
      ['array properties', () => t.track('c', [1] as unknown as Record<string, unknown>)],
      ['NaN timestamp', () => t.track('c', {}, { timestamp: NaN })],
      ['numeric sourceId', () => t.track('c', {}, { sourceId: 7 as unknown as string })],
      ['empty id', () => t.track('c', {}, { id: '' })],
      ['getter that throws', () => t.track('c', { get boom() { throw new Error('getter'); } })],
      ['proxy that throws', () => t.track('c', new Proxy({}, { ownKeys() { throw new Error('trap'); } }))],
    ];
    t.track('before', { ok: true });
    for (const [, call] of calls) expect(call).not.toThrow();
    t.track('after', { ok: true });
    expect(await t.flush(5000)).toBe(true);
    expect(eventsOf(collector()).map((e) => e.name)).toEqual(['before', 'after']);
    const { dropped } = t.stats();
    expect(dropped.invalid + dropped.too_large).toBe(calls.length);
    expect(dropped.too_large).toBe(1);
    expect(errors.filter((e) => e.code !== 'retry').every((e) => e.message.startsWith('[outbox] '))).toBe(true);
    await t.close();
  });

  it('survives an onError callback that throws', async () => {
    const t = createTracker({ endpoint: collector().endpoint, storage: false, onError: () => { throw new Error('host bug'); } });
    expect(() => t.track('', {})).not.toThrow();
    t.track('fine');
    expect(await t.flush(5000)).toBe(true);
    expect(eventsOf(collector()).map((e) => e.name)).toEqual(['fine']);
    await t.close();
  });

  it('needs no endpoint when a custom transport delivers', async () => {
    const sent: string[] = [];
    const t = createTracker({ storage: false, transport: { send: async (batch) => (sent.push(...batch.events.map((e) => JSON.parse(e.json).name)), { kind: 'ok' }) } });
    t.track('via-transport');
    expect(await t.flush(5000)).toBe(true);
    expect(sent).toEqual(['via-transport']);
  });

  it('a custom transport that throws synchronously is a retryable failure, not an exception in the page', async () => {
    let calls = 0;
    const errors: OutboxError[] = [];
    const t = createTracker({
      storage: false,
      retry: fastRetry,
      onError: (e) => errors.push(e),
      transport: {
        send: (() => {
          if (++calls === 1) throw new Error('transport bug');
          return Promise.resolve({ kind: 'ok' as const });
        }) as never,
      },
    });
    t.track('kept');
    expect(await t.flush(5000)).toBe(true);
    expect(calls).toBe(2);
    expect(errors[0]).toMatchObject({ code: 'retry' });
    expect(t.stats().sent).toBe(1);
  });

  it('refuses a misconfiguration at setup, with a clear message', () => {
    expect(() => createTracker({} as never)).toThrow(/endpoint/);
    expect(() => createTracker({ endpoint: 'http://x', maxBatchEvents: 0 })).toThrow(/maxBatchEvents/);
  });
});
