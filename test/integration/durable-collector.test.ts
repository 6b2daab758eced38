// The durable collector survives a crash: `npm run collector` as a child process, a Node tracker
// (the built package) sending 10,000 events, SIGKILL to the collector mid-stream, a restart on
// the same --data. At the end the feed holds every event exactly once and the tracker says sent
// 10,000. Needs `npm run build` (dist/index.js).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort, readFeed, startLocalCollector, type LocalCollector } from './local-collector.js';

const { createTracker } = (await import('../../dist/index.js')) as typeof import('../../src/index.js');
const { createFeedReader } = (await import('../../dist/feed-reader.js')) as typeof import('../../src/feed-reader.js');

const feedToken = 'process-test-token';
let running: LocalCollector | undefined;
let data: string | undefined;
afterEach(async () => {
  await running?.kill();
  if (data) rmSync(data, { recursive: true, force: true });
});

it('SIGKILL mid-stream and a restart on the same --data: every event in the feed exactly once, sent 10,000', async () => {
  data = mkdtempSync(join(tmpdir(), 'outbox-collector-'));
  const port = await freePort();
  running = await startLocalCollector({ port, data, feedToken });
  const tracker = createTracker({
    endpoint: running.endpoint,
    storage: false,
    maxBatchEvents: 50,
    flushIntervalMs: 20,
    retry: { baseMs: 20, maxDelayMs: 300 },
  });
  const track = (from: number, to: number) => {
    for (let i = from; i < to; i++) tracker.track('load', { i }, { sourceId: `device-${i % 13}` });
  };

  // Half now; the kill comes once some of it is stored, so it lands mid-stream.
  track(0, 5000);
  await until(() => tracker.stats().sent >= 1000);
  const before = await readFeed(running.url, feedToken, ['_first', '_first', '_first', '_first']);
  await running.kill();
  expect(tracker.stats().sent).toBeLessThan(10_000);

  // The rest while the collector is down: the tracker keeps them and retries.
  track(5000, 10_000);
  running = await startLocalCollector({ port, data, feedToken });
  expect(await tracker.flush(120_000)).toBe(true);

  const stats = tracker.stats();
  expect(stats).toMatchObject({ tracked: 10_000, sent: 10_000, queued: 0, inFlight: 0 });
  expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);

  // The cursors read before the crash continue after it: together, every event exactly once.
  const after = await readFeed(running.url, feedToken, before.cursors);
  const ids = [...before.ids, ...after.ids];
  expect(ids).toHaveLength(10_000);
  expect(new Set(ids).size).toBe(10_000);
  // And from the start, the same; also through outbox/feed, a ZeroEventHub client.
  expect((await readFeed(running.url, feedToken, ['_first', '_first', '_first', '_first'])).ids.sort()).toEqual(ids.sort());
  const reader = createFeedReader({ url: `${running.url}/feed/v1`, partitionCount: 4, headers: { authorization: `Bearer ${feedToken}` }, pageSizeHint: 1000 });
  const read: string[] = [];
  for await (const page of reader.pages<{ id: string }>([0, 1, 2, 3].map((partition) => ({ partition, cursor: '_first' })))) {
    read.push(...page.events.map((e) => e.data.id));
  }
  expect(read.sort()).toEqual(ids.sort());
  await tracker.close();
});

/** Polls a condition (no fixed sleep: the machine may be loaded). */
async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
