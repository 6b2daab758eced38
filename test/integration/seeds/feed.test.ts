import { describe, expect, it } from 'vitest';
import { createFeedReader, firstCursors, isFeedError, lastCursors, type Cursor, type FeedPage } from '../../../src/feed-reader.js';
import type { OutboxEventRecord } from '../../../src/index.js';
import { collector, tracker, type Collector } from './helpers.js';

// Feed reader [ZeroEventHub]: the collector serves what it stored at /feed/v1, partitioned by
// FNV-1a(sourceId) mod n; createFeedReader reads it with one cursor per partition.

const partitions = 4;
const sources = Array.from({ length: 10 }, (_, i) => `device-${i}`);

/** Sends `count` events round-robin over the sources, each numbered per source (`seq`), through the tracker. */
async function fill(server: Collector, count: number, from = 0): Promise<void> {
  const outbox = tracker({ endpoint: server.endpoint, maxBatchEvents: 13 });
  for (let i = from; i < from + count; i++) {
    outbox.track('step', { seq: Math.floor(i / sources.length) }, { sourceId: sources[i % sources.length] });
  }
  expect(await outbox.flush(5000)).toBe(true);
  await outbox.close(1000);
}

/**
 * A consumer's database: the effects of events and the cursors, changed together in one
 * "transaction" (here, one synchronous function), as the exactly-once pattern needs.
 */
function consumerDb() {
  const seen = new Map<string, OutboxEventRecord>();
  const order: OutboxEventRecord[] = [];
  let cursors: Cursor[] | undefined;
  return {
    seen,
    order,
    cursors: () => cursors,
    commit(page: FeedPage<OutboxEventRecord>) {
      for (const { data } of page.events) {
        if (seen.has(data.id)) throw new Error(`event ${data.id} delivered twice`);
        seen.set(data.id, data);
        order.push(data);
      }
      cursors = page.cursors;
    },
  };
}

/** Per source, the `seq` values in the order the consumer saw them. */
function sequencesBySource(events: readonly OutboxEventRecord[]): Map<string, number[]> {
  const bySource = new Map<string, number[]>();
  for (const event of events) {
    const list = bySource.get(event.sourceId!) ?? [];
    list.push(event.properties!.seq as number);
    bySource.set(event.sourceId!, list);
  }
  return bySource;
}

describe('feed reader against the collector', () => {
  it('reads from _first to the end across all partitions: every event exactly once, per-source order kept', async () => {
    const server = await collector({ partitions });
    await fill(server, 200);
    const reader = createFeedReader({ url: server.feedUrl, partitionCount: partitions, pageSizeHint: 9 });
    const db = consumerDb();
    let pages = 0;
    const partitionsSeen = new Set<number>();
    for await (const page of reader.pages<OutboxEventRecord>(firstCursors(partitions))) {
      pages++;
      page.events.forEach((e) => partitionsSeen.add(e.partition));
      db.commit(page);
    }

    expect(pages).toBeGreaterThan(200 / 9);
    expect(partitionsSeen.size).toBeGreaterThan(1);
    expect([...db.seen.keys()].sort()).toEqual(server.events().map((e) => e.id).sort());
    for (const [source, seqs] of sequencesBySource(db.order)) {
      expect(seqs, source).toEqual([...Array(20).keys()]);
    }
    // The stored cursors cover every partition and point at its end: nothing more to read.
    expect(db.cursors()!.map((c) => c.partition).sort()).toEqual([0, 1, 2, 3]);
    expect((await reader.readPage(db.cursors()!)).events).toEqual([]);
  });

  it('resumes from stored cursors after a restart (a new reader), delivering the rest exactly once', async () => {
    const server = await collector({ partitions });
    await fill(server, 120);
    const db = consumerDb();

    // First run: a few pages, then the process "dies" between pages.
    const first = createFeedReader({ url: server.feedUrl, partitionCount: partitions, pageSizeHint: 10 });
    for await (const page of first.pages<OutboxEventRecord>(firstCursors(partitions))) {
      db.commit(page);
      if (db.seen.size >= 40) break;
    }
    const readBeforeRestart = db.seen.size;
    expect(readBeforeRestart).toBeGreaterThanOrEqual(40);
    expect(readBeforeRestart).toBeLessThan(120);

    // Meanwhile more events arrive.
    await fill(server, 80, 120);

    // Second run: a fresh reader starting from what the database holds.
    const second = createFeedReader({ url: server.feedUrl, partitionCount: partitions, pageSizeHint: 25 });
    for await (const page of second.pages<OutboxEventRecord>(db.cursors()!)) db.commit(page);

    expect(db.seen.size).toBe(200);
    expect([...db.seen.keys()].sort()).toEqual(server.events().map((e) => e.id).sort());
    for (const [source, seqs] of sequencesBySource(db.order)) expect(seqs, source).toEqual([...Array(20).keys()]);
  });

  it('long-polls: a read with nothing new returns as soon as an event arrives', async () => {
    const server = await collector({ partitions });
    await fill(server, 10);
    const reader = createFeedReader({ url: server.feedUrl, partitionCount: partitions, waitSeconds: 10 });
    const atEnd = (await createFeedReader({ url: server.feedUrl, partitionCount: partitions }).readPage(lastCursors(partitions))).cursors;

    const started = Date.now();
    const reading = reader.readPage<OutboxEventRecord>(atEnd);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outbox = tracker({ endpoint: server.endpoint });
    expect(await outbox.send([{ name: 'late', sourceId: 'device-3' }])).toMatchObject({ sent: 1 });
    const page = await reading;
    const elapsed = Date.now() - started;

    expect(page.events.map((e) => e.data.name)).toEqual(['late']);
    expect(elapsed).toBeGreaterThanOrEqual(280); // it did wait for the event
    expect(elapsed).toBeLessThan(5000); // and did not sit out the 10 s
  });

  it('pages() with a long poll follows new events until aborted, then ends quietly', async () => {
    const server = await collector({ partitions });
    const controller = new AbortController();
    const reader = createFeedReader({ url: server.feedUrl, partitionCount: partitions, waitSeconds: 5, signal: controller.signal });
    const outbox = tracker({ endpoint: server.endpoint });
    const names: string[] = [];
    setTimeout(() => void outbox.send([{ name: 'one', sourceId: 'a' }]), 100);
    for await (const page of reader.pages<OutboxEventRecord>(firstCursors(partitions))) {
      names.push(...page.events.map((e) => e.data.name));
      if (names.length === 1) setTimeout(() => void outbox.send([{ name: 'two', sourceId: 'b' }]), 100);
      if (names.length === 2) setTimeout(() => controller.abort(), 50);
    }
    expect(names).toEqual(['one', 'two']);
  });

  it('a partition count mismatch is a 400 FeedError with the server message, not retried', async () => {
    const server = await collector({ partitions });
    const reader = createFeedReader({ url: server.feedUrl, partitionCount: 3, retry: { limit: 5, baseMs: 2000 } });
    const started = Date.now();
    const error = await reader.readPage(firstCursors(3)).catch((e: unknown) => e);

    expect(isFeedError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'http', status: 400 });
    expect((error as { body: string }).body).toContain('partition count mismatch');
    expect(Date.now() - started).toBeLessThan(1000); // no backoff happened
  });

  it('retries through refused connections (collector refuseForMs) and then reads', async () => {
    const server = await collector({ partitions });
    await fill(server, 20);
    server.setFaults({ refuseForMs: 400 });
    const reader = createFeedReader({ url: server.feedUrl, partitionCount: partitions, retry: { limit: 20, baseMs: 50, maxDelayMs: 100 } });
    const page = await reader.readPage(firstCursors(partitions));

    expect(server.stats().refusedConnections).toBeGreaterThanOrEqual(1);
    expect(page.events).toHaveLength(20);
  });

  it('gives up after the retry limit with a network FeedError while the collector stays down', async () => {
    const server = await collector({ partitions, faults: { refuseForMs: 60_000 } });
    const reader = createFeedReader({ url: server.feedUrl, partitionCount: partitions, retry: { limit: 2, baseMs: 10, maxDelayMs: 10 } });
    const error = await reader.readPage(firstCursors(partitions)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'FeedError', code: 'network' });
    expect(server.stats().refusedConnections).toBeGreaterThanOrEqual(3);
  });
});
