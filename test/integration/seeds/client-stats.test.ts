import { describe, expect, it } from 'vitest';
import type { Collector } from './helpers.js';
import { collector, tracker } from './helpers.js';

// Client statistics [Samsara send_client_stats, never shipped by any Samsara client]: with
// `clientStatsIntervalMs`, the tracker sends `outbox.client_stats` events with its counters.

const statsEvents = (server: Collector) => server.events().filter((e) => e.name === 'outbox.client_stats');

describe('client statistics events', () => {
  it('arrive periodically with the figures of the moment: counts, bytes on the wire, latency, settings', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint, clientStatsIntervalMs: 800, sourceId: 'device-1' });
    const started = Date.now();
    for (let i = 0; i < 3; i++) outbox.track('view', { i });
    outbox.track(''); // invalid: dropped and counted
    expect(await outbox.flush(5000)).toBe(true);
    const flushedAfterMs = Date.now() - started;
    const bytesOfFirstRequest = server.stats().bytesIn;

    await server.waitFor(() => statsEvents(server).length === 1, 5000);
    const first = statsEvents(server)[0]!;
    expect(first.sourceId).toBe('device-1');
    expect(first.properties).toEqual({
      tracked: 4,
      sent: 3,
      retried: 0,
      queued: 0,
      queuedBytes: 0,
      inFlight: 0,
      dropped: { overflow: 0, invalid: 1, too_large: 0, rejected: 0, ruled: 0, expired: 0, corrupt: 0 },
      requests: 1,
      failedRequests: 0,
      bytesSent: bytesOfFirstRequest,
      lastLatencyMs: expect.any(Number),
      meanLatencyMs: expect.any(Number),
      unloadSent: 0,
      unreportedErrors: 0,
      intervalMs: 800,
      maxQueueEvents: 10_000,
      flushIntervalMs: 50,
    });
    expect(first.properties!.lastLatencyMs).toBeLessThanOrEqual(flushedAfterMs);
    expect(first.properties!.meanLatencyMs).toBe(first.properties!.lastLatencyMs);

    // The next one counts the first stats event itself: tracked, sent, one more request and its bytes.
    const bytesOfTwoRequests = server.stats().bytesIn;
    await server.waitFor(() => statsEvents(server).length === 2, 5000);
    expect(statsEvents(server)[1]!.properties).toMatchObject({ tracked: 5, sent: 4, requests: 2, bytesSent: bytesOfTwoRequests, queued: 0 });
  });

  it('report drops by reason and retries as they happened', async () => {
    const server = await collector({ faults: { rejectStatus: 400 } });
    const outbox = tracker({ endpoint: server.endpoint, clientStatsIntervalMs: 1500 });
    outbox.track('refused');
    expect(await outbox.flush(5000)).toBe(true); // dropped: rejected

    server.setFaults({ failRate: 1 }); // 503 on every request, until cleared
    outbox.track('retried');
    const flushed = outbox.flush(5000);
    await server.waitFor(() => server.stats().rejected[503]! >= 2, 5000);
    server.clearFaults();
    expect(await flushed).toBe(true);

    outbox.track('ok');
    outbox.track('ok');
    outbox.track('big', { blob: 'x'.repeat(40_000) }); // over maxEventBytes (32 KiB): too_large
    expect(await outbox.flush(5000)).toBe(true);
    const failedAttempts = server.stats().rejected[503]!;
    const expected = outbox.stats();
    expect(expected).toMatchObject({ tracked: 5, sent: 3, retried: failedAttempts, failedRequests: 1 + failedAttempts });

    await server.waitFor(() => statsEvents(server).length === 1, 5000);
    expect(statsEvents(server)[0]!.properties).toEqual({ ...expected, intervalMs: 1500, maxQueueEvents: 10_000, flushIntervalMs: 50 });
    expect(statsEvents(server)[0]!.properties!.dropped).toEqual({ overflow: 0, invalid: 0, too_large: 1, rejected: 1, ruled: 0, expired: 0, corrupt: 0 });
  });

  it('are off by default', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint });
    outbox.track('view');
    expect(await outbox.flush(5000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(statsEvents(server)).toEqual([]);
  });
});
