import { describe, expect, it } from 'vitest';
import { collector, errorsOf, tracker } from './helpers.js';

// Immediate bulk send [atom putEvents, Samsara publish_events]: `send(events)` delivers now,
// bypassing the timer but not the retry policy, and resolves with { sent, dropped, pending }.

describe('send()', () => {
  it('delivers at once, ignoring the timer, and resolves when all are acknowledged', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint, flushIntervalMs: 60_000, minBatchEvents: 1000 });
    const started = Date.now();
    const result = await outbox.send([
      { name: 'invoice.created', properties: { total: 10 } },
      { name: 'invoice.sent', properties: { total: 10 }, sourceId: 'billing', stream: 'finance', id: 'inv-1-sent' },
      { name: 'invoice.paid' },
    ]);

    expect(result).toEqual({ sent: 3, dropped: 0, pending: 0 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.events().map((e) => e.name).sort()).toEqual(['invoice.created', 'invoice.paid', 'invoice.sent']);
    expect(server.events().find((e) => e.id === 'inv-1-sent')).toMatchObject({ sourceId: 'billing', stream: 'finance' });
  });

  it('cuts large sends by the batch limits', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint, maxBatchEvents: 10 });
    const result = await outbox.send(Array.from({ length: 35 }, (_, i) => ({ name: 'bulk', properties: { i } })));
    expect(result).toEqual({ sent: 35, dropped: 0, pending: 0 });
    expect(server.stats()).toMatchObject({ accepted: 35, requests: 4 });
  });

  it('a 400 drops the events: counted in `dropped`, reported as rejected', async () => {
    const server = await collector({ faults: { rejectStatus: 400 } });
    const outbox = tracker({ endpoint: server.endpoint });
    const result = await outbox.send([{ name: 'a', id: 'a-1' }, { name: 'b', id: 'b-1' }]);

    expect(result).toEqual({ sent: 0, dropped: 2, pending: 0 });
    // A 400 splits the batch until the offending event is alone (issue 9): here both are refused.
    const rejected = errorsOf(outbox.errors, 'rejected');
    expect(rejected[0]).toMatchObject({ status: 400 });
    expect(rejected.flatMap((error) => error.events.map((e) => e.id)).sort()).toEqual(['a-1', 'b-1']);
    expect(outbox.stats().dropped.rejected).toBe(2);
  });

  it('invalid inputs are dropped up front, the rest sent', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint });
    const result = await outbox.send([{ name: 'ok' }, { name: '' }, { name: 'fn', properties: { f: () => 1 } }, { name: 'ok too' }]);
    expect(result).toEqual({ sent: 2, dropped: 2, pending: 0 });
    expect(errorsOf(outbox.errors, 'invalid')).toHaveLength(2);
  });

  it('retries through 503s within the timeout (the retry policy still applies)', async () => {
    const server = await collector({ faults: { failRate: 1 } });
    const outbox = tracker({ endpoint: server.endpoint });
    setTimeout(() => server.clearFaults(), 150);
    expect(await outbox.send([{ name: 'eventually' }], 5000)).toEqual({ sent: 1, dropped: 0, pending: 0 });
    expect(server.stats().rejected[503]).toBeGreaterThanOrEqual(1);
    expect(outbox.stats().retried).toBe(server.stats().rejected[503]);
  });

  it('with the collector down, resolves at the timeout with the events pending; they are delivered later', async () => {
    const server = await collector({ faults: { refuseForMs: 60_000 } }); // connections dropped unanswered
    const outbox = tracker({ endpoint: server.endpoint, retry: { baseMs: 50, maxDelayMs: 100 } });
    const started = Date.now();
    const result = await outbox.send([{ name: 'offline-1' }, { name: 'offline-2' }], 400);

    expect(result).toEqual({ sent: 0, dropped: 0, pending: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(outbox.stats()).toMatchObject({ queued: 2, sent: 0 });
    expect(server.stats().refusedConnections).toBeGreaterThanOrEqual(1);
    expect(errorsOf(outbox.errors, 'retry').length).toBeGreaterThanOrEqual(1);

    server.clearFaults(); // the collector is back
    expect(await outbox.flush(5000)).toBe(true);
    expect(server.events().map((e) => e.name).sort()).toEqual(['offline-1', 'offline-2']);
  });
});
