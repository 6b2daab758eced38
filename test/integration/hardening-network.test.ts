// Regressions of issue 9 against a real HTTP server on 127.0.0.1, purpose-built per test so each
// can misbehave exactly as a hostile or broken collector would.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createTracker, type OutboxError, type TrackerOptions } from '../../src/index.js';

interface Seen {
  url: string;
  method: string;
  ids: string[];
  names: string[];
  at: number;
}

const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** Starts a server; `handle` answers each request after its body was read and parsed. */
async function serve(handle: (request: Seen, response: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      let body = Buffer.concat(parts);
      if (request.url!.includes('encoding=gzip')) body = gunzipSync(body);
      const events = body.length ? ((JSON.parse(body.toString()) as { events: { id: string; name: string }[] }).events ?? []) : [];
      const entry = { url: request.url!, method: request.method!, ids: events.map((e) => e.id), names: events.map((e) => e.name), at: Date.now() };
      seen.push(entry);
      handle(entry, response);
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => (server.closeAllConnections(), server.close()) });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint: `${base}/v1/batch`, base, seen };
}

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function tracker(options: TrackerOptions) {
  const errors: OutboxError[] = [];
  const outbox = createTracker({ storage: false, compression: 'none', onError: (e) => errors.push(e), ...options });
  return { outbox, errors };
}

describe('silent loss', () => {
  it('a 301 to a URL that answers 200 is not an acknowledgement: retried, reported with the Location', async () => {
    const server = await serve((request, response) => {
      if (request.url.startsWith('/v1/batch')) {
        response.writeHead(301, { location: '/final' });
        response.end();
      } else json(response, 200, { accepted: 0, duplicates: 0 });
    });
    const { outbox, errors } = tracker({ endpoint: server.endpoint, retry: { baseMs: 5, maxDelayMs: 20 } });
    outbox.track('lost-on-main');
    expect(await outbox.flush(300)).toBe(false);
    expect(outbox.stats()).toMatchObject({ sent: 0, queued: 1 });
    expect(server.seen.filter((r) => r.url === '/final')).toEqual([]);
    expect(errors.find((e) => e.code === 'retry')!.message).toMatch(/HTTP 301.*\/final/);
  });

  it('a 2xx is accounted from its `ruled` ids: those dropped as ruled, the rest sent; no re-matching of rules', async () => {
    const server = await serve((request, response) =>
      json(response, 200, {
        accepted: 2,
        duplicates: 0,
        ruled: request.ids.filter((id) => id.startsWith('r')),
        // A rule the tracker declines (ttlMs 0) must not decide what was stored.
        rules: [{ name: 'keep', ttlMs: 0 }],
      }),
    );
    const { outbox, errors } = tracker({ endpoint: server.endpoint });
    outbox.track('keep', {}, { id: 'k1' });
    outbox.track('drop', {}, { id: 'r1' });
    outbox.track('keep', {}, { id: 'k2' });
    expect(await outbox.flush(5000)).toBe(true);
    expect(outbox.stats()).toMatchObject({ sent: 2, dropped: { ruled: 1 } });
    expect(errors.filter((e) => e.code === 'ruled').flatMap((e) => e.events.map((r) => r.id))).toEqual(['r1']);
  });
});

describe('one bad event never takes its batch', () => {
  it('a 400 for a batch of 100 splits until the offender is alone: 99 sent, 1 rejected', async () => {
    const server = await serve((request, response) => (request.names.includes('poison') ? json(response, 400, { error: 'bad event' }) : json(response, 200, { accepted: request.ids.length, duplicates: 0 })));
    const { outbox } = tracker({ endpoint: server.endpoint, maxBatchEvents: 100 });
    for (let i = 0; i < 100; i++) outbox.track(i === 37 ? 'poison' : 'good', { i }, { id: `e${i}` });
    expect(await outbox.flush(10_000)).toBe(true);
    expect(outbox.stats()).toMatchObject({ sent: 99, dropped: { rejected: 1 } });
  });
});

describe('a hostile collector', () => {
  it('a 2xx with a 500 MB body is read at most maxReplyBytes: acknowledged at once, memory flat', async () => {
    let written = 0;
    let closed = false;
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const block = Buffer.alloc(1 << 20, 0x20);
      const pump = () => {
        while (written < 500 * (1 << 20) && !closed) {
          written += block.length;
          if (!response.write(block)) return void response.once('drain', pump);
        }
        response.end();
      };
      response.on('close', () => (closed = true));
      pump();
    });
    const heapBefore = process.memoryUsage().rss;
    const { outbox } = tracker({ endpoint: server.endpoint });
    outbox.track('a');
    const started = Date.now();
    expect(await outbox.flush(10_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(() => closed);
    expect(written).toBeLessThan(100 * (1 << 20));
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(200 * (1 << 20));
    expect(outbox.stats().sent).toBe(1);
  });

  it('40,000 rules in a reply: at most 64 kept, track() stays cheap', async () => {
    const rules = Array.from({ length: 40_000 }, (_, i) => ({ name: `n${i}`, ttlMs: 60_000 }));
    const server = await serve((_request, response) => json(response, 200, { accepted: 1, duplicates: 0, rules }));
    const { outbox } = tracker({ endpoint: server.endpoint });
    outbox.track('a');
    expect(await outbox.flush(5000)).toBe(true);
    expect(outbox.rules().length).toBeLessThanOrEqual(64);
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) outbox.track('fresh', { i });
    expect((performance.now() - started) / 10_000).toBeLessThan(0.05); // ms per track(): under 50 µs (250-500 µs on main)
  });

  it('a rule with an empty-string field is refused (it would match every event without one)', async () => {
    const server = await serve((request, response) => json(response, 200, { accepted: request.ids.length, duplicates: 0, rules: [{ stream: '', ttlMs: 60_000 }, { sourceId: 7, ttlMs: 60_000 }] }));
    const { outbox } = tracker({ endpoint: server.endpoint });
    outbox.track('a');
    expect(await outbox.flush(5000)).toBe(true);
    outbox.track('b');
    expect(await outbox.flush(5000)).toBe(true);
    expect(outbox.rules()).toEqual([]);
    expect(outbox.stats()).toMatchObject({ sent: 2, dropped: { ruled: 0 } });
  });

  it('a 503 without Retry-After, 10,000 sources: the whole queue backs off with one probe at a time', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = await serve((_request, response) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        json(response, 503, { error: 'down' });
      }, 5);
    });
    const { outbox } = tracker({ endpoint: server.endpoint, maxBatchEvents: 10, random: () => 0.5, retry: { baseMs: 200, maxDelayMs: 5000 } });
    for (let i = 0; i < 10_000; i++) outbox.track('e', { i }, { sourceId: `source-${i}` });
    void outbox.flush(1);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Two at first (concurrency), then probes after 100, 200, 400, 800, 1600 ms of backoff.
    expect(server.seen.length).toBeLessThanOrEqual(8);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    await outbox.close(1);
  });

  it('a Retry-After longer than retry.maxDelayMs is honoured (capped by maxRetryAfterMs instead)', async () => {
    let first = true;
    const server = await serve((request, response) => {
      if (first) {
        first = false;
        return json(response, 503, { error: 'pause' }, { 'retry-after': '2' });
      }
      json(response, 200, { accepted: request.ids.length, duplicates: 0 });
    });
    const { outbox } = tracker({ endpoint: server.endpoint, retry: { baseMs: 5, maxDelayMs: 50 } });
    outbox.track('a');
    expect(await outbox.flush(10_000)).toBe(true);
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]!.at - server.seen[0]!.at).toBeGreaterThanOrEqual(1900);
  });

  it('timeoutMs: Infinity waits for a slow collector instead of aborting every request', async () => {
    const server = await serve((request, response) => setTimeout(() => json(response, 200, { accepted: request.ids.length, duplicates: 0 }), 200));
    const { outbox } = tracker({ endpoint: server.endpoint, timeoutMs: Infinity });
    outbox.track('a');
    expect(await outbox.flush(5000)).toBe(true);
    expect(outbox.stats()).toMatchObject({ sent: 1, failedRequests: 0 });
  });

  it('the injected fetch is the one used', async () => {
    const urls: string[] = [];
    const { outbox } = tracker({
      endpoint: 'http://sim.invalid/v1/batch',
      fetch: async (url, init) => (urls.push(url), expect(init.redirect).toBe('manual'), new Response('{"accepted":1,"duplicates":0}', { status: 200 })),
    });
    outbox.track('a');
    expect(await outbox.flush(5000)).toBe(true);
    expect(urls).toHaveLength(1);
  });
});
