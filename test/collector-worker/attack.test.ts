// outbox/collector attacked from outside, in workerd: inputs a newcomer's client or an attacker
// sends that the other suites do not. Each case is a finding of the review (issue 10) or a
// guard it confirmed; every refusal is a 4xx with a code, never a crash, a hang or a lost event.
import { reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchBody, collector, event, feed, post, readAll } from './harness.js';

beforeEach(async () => {
  await reset();
});

describe('ids SQLite would conflate', () => {
  it('stores ids that differ only after a NUL as two events', async () => {
    const call = collector();
    const reply = await post(call, batchBody([event({ id: 'a\u0000b', sourceId: 's' }), event({ id: 'a\u0000c', sourceId: 's' })]));
    expect(reply).toMatchObject({ status: 200, json: { accepted: 2, duplicates: 0 } });
    expect((await readAll(call)).events.map((e) => e.data!.id)).toEqual(['a\u0000b', 'a\u0000c']);
  });

  it('never stores an event under another event’s id: ids with lone surrogates stay distinct, not merged into U+FFFD', async () => {
    const call = collector();
    expect(await post(call, batchBody([event({ id: 'x\ud800', sourceId: 's' })]))).toMatchObject({ status: 200, json: { accepted: 1, duplicates: 0 } });
    expect(await post(call, batchBody([event({ id: 'x\udc00', sourceId: 's' })]))).toMatchObject({ status: 200, json: { accepted: 1, duplicates: 0 } });
    expect((await readAll(call)).events.map((e) => e.data!.id)).toEqual(['x\ud800', 'x\udc00']);
  });

  it('stores SQL-significant ids as data', async () => {
    const call = collector();
    const ids = [`'); DROP TABLE events; --`, `" OR 1=1 --`, '%_\\', '?', '$1'];
    const reply = await post(call, batchBody(ids.map((id) => event({ id, sourceId: 's' }))));
    expect(reply).toMatchObject({ status: 200, json: { accepted: ids.length } });
    expect((await readAll(call)).events.map((e) => e.data!.id)).toEqual(ids);
  });
});

describe('bodies', () => {
  it('408 for a body that never ends, instead of holding the request open for ever', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"events":['));
      },
    });
    const reply = await post(collector({ bodyTimeoutMs: 200 }), body);
    expect(reply).toMatchObject({ status: 408, json: { error: 'body_timeout' } });
  });

  it('400 bad_body, not a 500, for a body the client breaks (bad chunked encoding, connection lost)', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"events":['));
      },
      pull(controller) {
        controller.error(new Error('Network connection lost.'));
      },
    });
    const reply = await post(collector(), body);
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_body' } });
  });

  it('__proto__ keys and duplicate keys are data: stored as parsed, nothing polluted', async () => {
    const call = collector();
    const text = '{"events":[{"id":"p1","id":"p2","name":"n","timestamp":1,"sourceId":"s","__proto__":{"stream":"server"},"properties":{"__proto__":{"admin":true},"k":1,"k":2}}]}';
    const reply = await post(call, text);
    expect(reply).toMatchObject({ status: 200, json: { accepted: 1 } });
    const [stored] = (await readAll(call)).events;
    expect(stored!.data).toEqual(JSON.parse('{"id":"p2","name":"n","timestamp":1,"sourceId":"s","properties":{"__proto__":{"admin":true},"k":2}}'));
    expect(stored!.data!.stream).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('what a refusal echoes', () => {
  it('keeps reflected input short: a 64 KiB origin or path is not sent back whole', async () => {
    const long = 'x'.repeat(64 * 1024);
    const call = collector({ allowedOrigins: ['https://app.example'] });
    const origin = await call('/v1/batch', { method: 'POST', body: batchBody([]), headers: { origin: `https://${long}` } });
    expect(origin.status).toBe(403);
    expect((await origin.text()).length).toBeLessThan(1024);
    const method = await collector()(`/feed/v1/../${long}`, { method: 'DELETE' });
    expect(method.status).toBeGreaterThanOrEqual(400);
    expect((await method.text()).length).toBeLessThan(1024);
    const feedMethod = await collector()(`/feed/v1?${long}`, { method: 'PUT' });
    expect(feedMethod.status).toBe(405);
  });
});

describe('feed queries', () => {
  it('refuses forged, negative, fractional, hex and huge cursors with 400 bad_cursor', async () => {
    const call = collector();
    await post(call, batchBody([event({ sourceId: 's' })]));
    for (const cursor of ['-1', '1.5', '0x1', '1e3', '9'.repeat(16), '99999999', '%00', ' 1', '_FIRST', '']) {
      const page = await feed(call, `n=4&cursor0=${encodeURIComponent(cursor)}`);
      expect(page.status, cursor).toBe(400);
      expect(JSON.parse(page.text).error, cursor).toBe('bad_cursor');
    }
  });

  it('refuses n that is not the partition count, and odd pagesizehint and wait values', async () => {
    const call = collector();
    for (const query of ['n=3&cursor0=_first', 'n=-4&cursor0=_first', 'n=4.0&cursor0=_first', 'n=&cursor0=_first', 'cursor0=_first', 'n=4&n=5&cursor0=_first']) {
      expect((await feed(call, query)).status, query).toBe(400);
    }
    for (const query of ['pagesizehint=-1', 'pagesizehint=1e9', 'wait=-1', 'wait=Infinity', 'wait=NaN']) {
      expect((await feed(call, `n=4&cursor0=_first&${query}`)).status, query).toBe(400);
    }
    // Extremes that are valid are clamped, not refused: a page of 10,000 at most, a wait of 30 s at most.
    expect((await feed(call, 'n=4&cursor0=_first&pagesizehint=999999999')).status).toBe(200);
  });

  it('a bearer token that differs only in length or case is refused', async () => {
    const call = collector({ feedToken: 'Token-Abc' });
    for (const header of ['Bearer token-abc', 'Bearer Token-Ab', 'Bearer Token-Abcd', 'Bearer Token-Abc x', 'Basic Token-Abc', 'Bearer', `Bearer ${'T'.repeat(100_000)}`]) {
      const response = await call('/feed/v1?n=4&cursor0=_first', { headers: { authorization: header } });
      expect(response.status, header.slice(0, 40)).toBe(401);
    }
    expect((await call('/feed/v1?n=4&cursor0=_first', { headers: { authorization: 'bearer   Token-Abc' } })).status).toBe(200);
  });
});

describe('receipts', () => {
  it('400 for garbage rids, false for unknown ones, and never a crash', async () => {
    const call = collector();
    for (const rid of ['', 'x'.repeat(257)]) {
      const response = await call(`/v1/batch?receipt=${encodeURIComponent(rid)}`);
      expect(response.status).toBe(400);
    }
    for (const rid of [`'; DELETE FROM receipts; --`, '\u0000', '%', '__proto__']) {
      const response = await call(`/v1/batch?receipt=${encodeURIComponent(rid)}`);
      expect(response.status, rid).toBe(200);
      expect(await response.json()).toEqual({ rid, received: false });
    }
  });
});
