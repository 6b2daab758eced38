import { describe, expect, it } from 'vitest';
import { collector, errorsOf, tracker } from './helpers.js';

// Request ids and de-duplication [Ramen reqid]: every retry of a batch carries the same `rid`,
// every event a stable `id`; the collector keeps bounded windows of both and counts repeats.

describe('request ids and de-duplication', () => {
  it('the same caller-supplied event id sent twice is stored once and counted as a duplicate', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint });
    outbox.track('order.paid', { cents: 100 }, { id: 'order-42-paid' });
    expect(await outbox.flush(5000)).toBe(true);
    // The caller's own retry (after a crash, another device...) reuses its id.
    outbox.track('order.paid', { cents: 100 }, { id: 'order-42-paid' });
    expect(await outbox.flush(5000)).toBe(true);

    expect(server.events()).toEqual([expect.objectContaining({ id: 'order-42-paid', name: 'order.paid' })]);
    expect(server.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
    // A duplicate is still acknowledged: the tracker does not retry it, and nothing is dropped.
    expect(outbox.stats()).toMatchObject({ sent: 2, queued: 0 });
    expect(outbox.errors).toEqual([]);
  });

  it('two trackers (say, two devices) sending one id: the collector keeps the first', async () => {
    const server = await collector();
    const a = tracker({ endpoint: server.endpoint, sourceId: 'device-a' });
    const b = tracker({ endpoint: server.endpoint, sourceId: 'device-b' });
    expect(await a.send([{ name: 'invite.accepted', id: 'invite-7' }])).toEqual({ sent: 1, dropped: 0, pending: 0 });
    expect(await b.send([{ name: 'invite.accepted', id: 'invite-7' }])).toEqual({ sent: 1, dropped: 0, pending: 0 });
    expect(server.events().map((e) => e.sourceId)).toEqual(['device-a']);
    expect(server.stats().duplicates).toBe(1);
  });

  it('a retried batch (reply lost to a timeout) carries the same rid: counted as a duplicate request, its events as duplicates', async () => {
    const server = await collector({ faults: { latencyMs: 600 } });
    const outbox = tracker({ endpoint: server.endpoint, timeoutMs: 250, retry: { baseMs: 10, maxDelayMs: 10 } });
    for (let i = 0; i < 4; i++) outbox.track('slow', { i });
    const flushed = outbox.flush(10_000);
    // The collector stores the batch, then answers too late; once stored, let replies be quick.
    await server.waitFor((c) => c.stats().accepted === 4, 5000);
    server.clearFaults();

    expect(await flushed).toBe(true);
    expect(server.events()).toHaveLength(4);
    // Usually one retry; on a slow machine the retry may also time out, and each repeat counts.
    const { accepted, duplicates, duplicateRequests } = server.stats();
    const retries = errorsOf(outbox.errors, 'retry').length;
    expect(retries).toBeGreaterThanOrEqual(1);
    expect({ accepted, duplicates, duplicateRequests }).toEqual({ accepted: 4, duplicates: 4 * retries, duplicateRequests: retries });
    expect(outbox.stats()).toMatchObject({ sent: 4, retried: 4 * retries });
  });

  it('tracker-made ids are unique: many events, none counted as a duplicate', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint });
    for (let i = 0; i < 500; i++) outbox.track('e', { i });
    expect(await outbox.flush(5000)).toBe(true);
    expect(server.stats()).toMatchObject({ accepted: 500, duplicates: 0, duplicateRequests: 0 });
    expect(new Set(server.events().map((e) => e.id)).size).toBe(500);
  });
});
