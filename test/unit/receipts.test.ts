// The receipt decisions, table-driven: what a collector's reply means (src/receipts.ts), and what
// a new sender does with the leases it found once the answers are in (platform/lease-receipts.ts).
import { describe, expect, it } from 'vitest';
import { ruledIds } from '../../src/batch-outcome.js';
import { askReceipt, readReceipt, receiptSettleMs, receiptUrl } from '../../src/receipts.js';
import { decideLeases, receiptRetryMs, type FoundLease } from '../../src/platform/lease-receipts.js';

describe('readReceipt', () => {
  it.each([
    ['a 200 receipt, received', 200, { rid: 'r1', received: true }, true],
    ['a 200 receipt, not received', 200, { rid: 'r1', received: false }, false],
    ['a receipt about another rid', 200, { rid: 'r2', received: true }, null],
    ['a 404 (an old collector)', 404, { error: 'not_found' }, null],
    ['a 200 batch reply', 200, { accepted: 0, duplicates: 0 }, null],
    ['received as a string', 200, { rid: 'r1', received: 'true' }, null],
    ['no body', 200, null, null],
  ])('%s', (_, status, body, answer) => {
    expect(readReceipt('r1', status, body)).toBe(answer);
  });

  it('builds the receipt URL on endpoints with and without a query', () => {
    expect(receiptUrl('https://c.example/v1/batch', 'a b')).toBe('https://c.example/v1/batch?receipt=a%20b');
    expect(receiptUrl('https://c.example/v1/batch?key=1', 'r')).toBe('https://c.example/v1/batch?key=1&receipt=r');
  });
});

describe('decideLeases', () => {
  const now = 100_000;
  const lease = (rid: string, ids: string[], ageMs = 5000, leftMs = 10_000): FoundLease => ({ rid, ids, until: now + leftMs, stream: '', at: now - ageMs });

  it.each([
    ['received: its events are acknowledged, the lease goes', true, { acked: ['a', 'b'], release: ['u'], retry: [] }],
    ['missing: the lease goes, the events are free to send', false, { acked: [], release: ['u'], retry: [] }],
    ['unsupported: the lease stays, never asked again', null, { acked: [], release: [], retry: [] }],
    ['unreachable: the lease stays, asked again', undefined, { acked: [], release: [], retry: ['u'] }],
  ] as const)('%s', (_, answer, want) => {
    const [acked, release, retry] = decideLeases([lease('u', ['a', 'b'])], [answer], now);
    expect({ acked: [...acked], release: release.map((l) => l.rid), retry: retry.map((l) => l.rid) }).toEqual(want);
  });

  it('trusts no "missing" for a request younger than the settle time: it is asked again', () => {
    const [, release, retry] = decideLeases([lease('young', ['a'], receiptSettleMs - 1)], [false], now);
    expect(release).toEqual([]);
    expect(retry.map((l) => l.rid)).toEqual(['young']);
  });

  it('stops asking about a lease that ends before the next try (the outbox takes it back)', () => {
    expect(decideLeases([lease('ending', ['a'], 5000, receiptRetryMs)], [undefined], now)[2]).toEqual([]);
  });

  it('acknowledges an event received in any request: an unload request and a batch in flight may share it', () => {
    const [acked, release] = decideLeases([lease('batch', ['a', 'b']), lease('unload', ['b', 'c'])], [false, true], now);
    expect([...acked].sort()).toEqual(['b', 'c']);
    expect(release.map((l) => l.rid)).toEqual(['batch', 'unload']);
  });
});

describe('a receipt\'s ruled ids (wire.ts ReceiptReply.ruled)', () => {
  const receipt = (body: unknown, status = 200) => () => Promise.resolve(new Response(JSON.stringify(body), { status }));
  // What lease-receipts.ts takes from a receipt: its body, read by ruledIds against the lease's own ids.
  async function ruledOf(fetch: () => Promise<Response>, ids = ['a', 'b']) {
    let ruled: string[] | undefined;
    const answer = await askReceipt({ fetch, streams: {}, endpoint: 'https://c.example/v1/batch' }, '', 'r', (reply) => (ruled = [...ruledIds(reply, ids)]));
    return { answer, ruled };
  }

  it.each([
    ['listed ids of the lease', { rid: 'r', received: true, ruled: ['a'] }, { answer: true, ruled: ['a'] }],
    ['absent (an older collector): none', { rid: 'r', received: true }, { answer: true, ruled: [] }],
    ['ids of no event of the lease are ignored', { rid: 'r', received: true, ruled: ['x', 'b'] }, { answer: true, ruled: ['b'] }],
    ['not an array: none', { rid: 'r', received: true, ruled: 'a' }, { answer: true, ruled: [] }],
    ['non-strings: none', { rid: 'r', received: true, ruled: [1, null, { id: 'a' }] }, { answer: true, ruled: [] }],
    ['a receipt about another rid is not read', { rid: 'other', received: true, ruled: ['a'] }, { answer: null, ruled: undefined }],
  ] as const)('%s', async (_, body, want) => {
    expect(await ruledOf(receipt(body))).toEqual(want);
  });

  it('a 404, a body that is not JSON, and no answer hand over nothing', async () => {
    expect(await ruledOf(receipt({ rid: 'r', received: true, ruled: ['a'] }, 404))).toEqual({ answer: null, ruled: undefined });
    expect(await ruledOf(() => Promise.resolve(new Response('{"rid": "r", "ruled": [', { status: 200 })))).toEqual({ answer: null, ruled: undefined });
    expect(await ruledOf(() => Promise.reject(new TypeError('offline')))).toEqual({ answer: undefined, ruled: undefined });
  });

  it('a reply past 64 KiB is not read whole: cancelled, and no answer (null)', async () => {
    let pulled = 0;
    let cancelled = false;
    const chunk = new TextEncoder().encode(`{"rid":"r","received":true,"pad":"${'x'.repeat(16_000)}`);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await ruledOf(() => Promise.resolve(new Response(endless, { status: 200 })))).toEqual({ answer: null, ruled: undefined });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
  });
});
