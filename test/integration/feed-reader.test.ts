// The feed reader (outbox/feed) over real HTTP on 127.0.0.1: the reference collector's feed, and
// in front of it a filtering server (ZeroEventHub lets a server leave events out and still move
// its checkpoints) that also ignores `wait` and can fail on demand.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFeedReader, firstCursors, isFeedError, type Cursor } from '../../src/feed-reader.js';
import { startCollector } from '../../demo/collector/collector.mjs';

type Collector = Awaited<ReturnType<typeof startCollector>>;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function collector(): Promise<Collector> {
  const started = await startCollector({ quiet: true, partitions: 2 });
  closers.push(() => started.close());
  return started;
}

async function post(target: Collector, events: { id: string; name: string; sourceId: string }[]): Promise<void> {
  const body = JSON.stringify({ events: events.map((e, i) => ({ ...e, timestamp: 1_732_000_000_000 + i })) });
  const response = await fetch(target.endpoint, { method: 'POST', body });
  expect(response.status).toBe(200);
}

/**
 * A feed server in front of the collector's: drops events whose name is not `keep`, keeps every
 * checkpoint, drops `wait` (answers at once), and answers `fail(n)` requests with 503 first.
 */
async function filteringServer(upstream: Collector) {
  const requests: URL[] = [];
  let failures = 0;
  let retryAfter: string | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://filter');
    requests.push(url);
    if (failures > 0) {
      failures--;
      res.writeHead(503, retryAfter ? { 'Retry-After': retryAfter } : {}).end('busy');
      return;
    }
    url.searchParams.delete('wait');
    fetch(`${upstream.feedUrl}${url.search}`)
      .then(async (answer) => {
        const lines = (await answer.text()).split('\n').filter((line) => {
          const item = line ? JSON.parse(line) : undefined;
          return item && (item.cursor !== undefined || item.data.name === 'keep');
        });
        res.writeHead(answer.status, { 'Content-Type': 'application/x-ndjson' }).end(lines.map((line) => `${line}\n`).join(''));
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed/v1`,
    requests,
    fail(count: number, after?: string) {
      failures = count;
      retryAfter = after;
    },
  };
}

/** Events of one source (so one partition), `keep` only every `every`-th. */
const events = (count: number, every: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `e${i}`, name: i % every === every - 1 ? 'keep' : 'drop', sourceId: 'device-1' }));

async function readAll(url: string, cursors: Cursor[], options: Partial<Parameters<typeof createFeedReader>[0]> = {}) {
  const ids: string[] = [];
  let last = cursors;
  for await (const page of createFeedReader({ url, partitionCount: 2, pageSizeHint: 10, ...options }).pages<{ id: string }>(cursors)) {
    ids.push(...page.events.map((e) => e.data.id));
    last = page.cursors;
  }
  return { ids, cursors: last };
}

describe('feed reader over HTTP', () => {
  it('reads every event of the reference collector exactly once', async () => {
    const source = await collector();
    await post(source, events(95, 1));
    const { ids } = await readAll(source.feedUrl, firstCursors(2));
    expect(ids).toEqual(Array.from({ length: 95 }, (_, i) => `e${i}`));
  });

  it('reads past the empty pages of a filtering server, whose checkpoints advance', async () => {
    const source = await collector();
    // 100 events, 4 kept: with 10 a page, most pages come back empty with an advanced cursor.
    await post(source, events(100, 25));
    const filter = await filteringServer(source);
    const { ids, cursors } = await readAll(filter.url, firstCursors(2));

    expect(ids).toEqual(['e24', 'e49', 'e74', 'e99']);
    expect(cursors.find((c) => c.cursor === '100')).toBeDefined();
    // Ten pages of ten, and one more to see the checkpoints stop.
    expect(filter.requests.length).toBe(11);
  });

  it('with waitSeconds against a server that ignores wait: about one request per pollIntervalMs', async () => {
    const source = await collector();
    const filter = await filteringServer(source);
    const controller = new AbortController();
    const started = performance.now();
    const reader = createFeedReader({ url: filter.url, partitionCount: 2, waitSeconds: 20, pollIntervalMs: 250, signal: controller.signal });
    setTimeout(() => void post(source, [{ id: 'late', name: 'keep', sourceId: 'device-1' }]), 1000);
    const ids: string[] = [];
    for await (const page of reader.pages<{ id: string }>(firstCursors(2))) {
      ids.push(...page.events.map((e) => e.data.id));
      if (ids.length) controller.abort();
    }
    const seconds = (performance.now() - started) / 1000;

    expect(ids).toEqual(['late']);
    // Without the pause this was ~40 requests a second; a slow machine only makes fewer.
    expect(filter.requests.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
  });

  it('retries a 503 after its Retry-After, through ky', async () => {
    const source = await collector();
    await post(source, events(3, 1));
    const filter = await filteringServer(source);
    filter.fail(1, '1');
    const started = performance.now();
    const page = await createFeedReader({ url: filter.url, partitionCount: 2, retry: { limit: 2, baseMs: 1 } }).readPage(firstCursors(2));
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(page.events).toHaveLength(3);
    expect(filter.requests).toHaveLength(2);
  });

  it('gives up after its retry limit with the status and body of the last answer', async () => {
    const source = await collector();
    const filter = await filteringServer(source);
    filter.fail(10);
    const error = await createFeedReader({ url: filter.url, partitionCount: 2, retry: { limit: 2, baseMs: 1 } })
      .readPage(firstCursors(2))
      .catch((e: unknown) => e);
    expect(isFeedError(error) && { code: error.code, status: error.status, body: error.body }).toEqual({ code: 'http', status: 503, body: 'busy' });
    expect(filter.requests).toHaveLength(3);
  });

  it('times out a server that never answers, retries, then reports a network error', async () => {
    let calls = 0;
    const silent = createServer(() => void calls++);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => (silent.closeAllConnections(), silent.close(resolve))));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/feed/v1`;
    const error = await createFeedReader({ url, partitionCount: 1, timeoutMs: 100, retry: { limit: 1, baseMs: 1 } })
      .readPage(firstCursors(1))
      .catch((e: unknown) => e);
    expect(isFeedError(error) && error.code).toBe('network');
    await expect.poll(() => calls).toBe(2);
  });
});
