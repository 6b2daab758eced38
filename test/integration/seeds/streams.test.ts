import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collector, tracker } from './helpers.js';

// Streams [ironSource atom]: `track(name, props, { stream })`, one stream per request
// (`&stream=` in the URL), and per-stream endpoints.

interface Seen {
  url: URL;
  events: { name: string; stream?: string }[];
}

/**
 * Records each request the tracker makes (URL and decoded body) and passes it on unchanged to
 * the real collector: an observer on `fetch`, not a stand-in for it.
 */
function recordRequests(): Seen[] {
  const seen: Seen[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname === '/v1/batch') {
      let body = new Uint8Array(await request.clone().arrayBuffer());
      if (url.searchParams.get('encoding') === 'gzip') body = gunzipSync(body);
      seen.push({ url, events: JSON.parse(new TextDecoder().decode(body)).events });
    }
    return realFetch(request);
  });
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('streams', () => {
  it('a batch never mixes streams, and each request names its stream', async () => {
    const server = await collector();
    const seen = recordRequests();
    const outbox = tracker({ endpoint: server.endpoint, maxBatchEvents: 7, flushIntervalMs: 60_000 });
    const streams = ['clicks', 'audit', '', 'views'];
    for (let i = 0; i < 60; i++) {
      const stream = streams[i % streams.length];
      outbox.track(`e${i}`, { i }, stream ? { stream } : undefined);
    }

    expect(await outbox.flush(5000)).toBe(true);
    expect(server.events()).toHaveLength(60);
    expect(seen.length).toBeGreaterThanOrEqual(4 * Math.ceil(15 / 7));
    for (const request of seen) {
      const named = request.url.searchParams.get('stream') ?? '';
      expect(new Set(request.events.map((e) => e.stream ?? ''))).toEqual(new Set([named]));
    }
    expect(new Set(seen.map((r) => r.url.searchParams.get('stream') ?? ''))).toEqual(new Set(streams));
  });

  it('a stream with its own endpoint is sent there; others go to the tracker endpoint', async () => {
    const main = await collector();
    const audit = await collector();
    const views = await collector();
    const outbox = tracker({ endpoint: main.endpoint, streams: { audit: { endpoint: audit.endpoint }, views: { endpoint: views.endpoint } } });
    for (let i = 0; i < 30; i++) {
      outbox.track('a', { i }, { stream: 'audit' });
      outbox.track('v', { i }, { stream: 'views' });
      outbox.track('c', { i }, { stream: 'clicks' });
      outbox.track('n', { i });
    }

    expect(await outbox.flush(5000)).toBe(true);
    expect(audit.events().map((e) => e.stream)).toEqual(Array(30).fill('audit'));
    expect(views.events().map((e) => e.stream)).toEqual(Array(30).fill('views'));
    expect(main.events().filter((e) => e.stream === 'clicks')).toHaveLength(30);
    expect(main.events().filter((e) => e.stream === undefined)).toHaveLength(30);
    expect(main.events()).toHaveLength(60);
    // Per stream, the order of track() is kept.
    expect(audit.events().map((e) => e.properties?.i)).toEqual([...Array(30).keys()]);
  });

  it('an unknown stream needs no configuration: it travels to the default endpoint, tagged', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint });
    outbox.track('x', {}, { stream: 'never-configured' });

    expect(await outbox.flush(5000)).toBe(true);
    expect(server.events()).toEqual([expect.objectContaining({ name: 'x', stream: 'never-configured' })]);
  });
});
