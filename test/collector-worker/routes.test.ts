// outbox/collector is safe to expose: only its routes exist, CORS never carries credentials,
// allowed origins are enforced, and nothing a client sends crashes it.
import { reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCollector } from 'outbox/collector';
import { batchBody, collector, event, feedToken, origin, post } from './harness.js';

beforeEach(async () => {
  await reset();
});

describe('routes', () => {
  it('GET /health answers', async () => {
    const response = await collector()('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, partitions: 4 });
  });

  it.each(['//', '/reset', '/faults', '/rules', '/events', '/stats', '/live', '/v1/batch/', '/feed/v1/x', '/%ff'])('404 for %s: no admin or other routes', async (path) => {
    for (const method of ['GET', 'POST']) {
      const response = await collector()(path, { method, body: method === 'POST' ? '{}' : undefined });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'not_found' });
    }
  });

  it('405 for other methods on its routes', async () => {
    const call = collector();
    expect((await call('/v1/batch', { method: 'PUT', body: 'x' })).status).toBe(405);
    expect((await call('/v1/batch')).status).toBe(405); // GET without ?receipt=
    expect((await call('/feed/v1', { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await call('/health', { method: 'DELETE' })).status).toBe(405);
  });

  it('500 naming the setting, never a crash, when the deploy is misconfigured', async () => {
    const response = await collector({ binding: 'MISSING' })('/health');
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: 'misconfigured', message: expect.stringMatching(/MISSING/) });
  });
});

describe('CORS', () => {
  const page = 'https://shop.example';

  it('lets any page send by default, without credentials', async () => {
    const reply = await post(collector(), batchBody([event()]), {}, { origin: page });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(reply.headers.get('access-control-allow-credentials')).toBeNull();
    expect(reply.headers.get('access-control-expose-headers')).toBe('Retry-After');
  });

  it('answers a preflight with 204, echoing requested headers, never allowing credentials', async () => {
    const response = await collector()('/v1/batch', {
      method: 'OPTIONS',
      headers: { origin: page, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-app' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type, x-app');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('with allowedOrigins, echoes an allowed origin and refuses others (403, nothing stored)', async () => {
    const call = collector({ allowedOrigins: [page] });
    const allowed = await post(call, batchBody([event()]), {}, { origin: page });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(page);
    expect(allowed.headers.get('vary')).toBe('Origin');
    const other = await post(call, batchBody([event()]), {}, { origin: 'https://evil.example' });
    expect(other).toMatchObject({ status: 403, json: { error: 'origin_not_allowed' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A server-side sender sends no Origin: allowed.
    expect((await post(call, batchBody([event()]))).status).toBe(200);
  });

  it('the feed sends no CORS headers: no page can read it', async () => {
    const response = await collector()('/feed/v1?n=4&cursor0=_first', { headers: { origin: 'https://evil.example', authorization: 'Bearer feed-token' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('every ingest outcome and every refusal is counted by reason (Workers Analytics Engine)', () => {
  it('writes one data point per request, refusals with their code, to the real local binding and to a recorder', async () => {
    // The local dataset accepts the writes: the collector works with the binding as deployed.
    expect((await post(collector(), batchBody([event()]))).status).toBe(200);

    const points: { indexes?: string[]; blobs?: string[]; doubles?: number[] }[] = [];
    const recorder = { writeDataPoint: (point: (typeof points)[number]) => void points.push(point) };
    const handler = createCollector({ feedToken, partitionCount: 4 });
    const call = (path: string, init?: RequestInit) => handler.fetch(new Request(origin + path, init), { ...env, OUTBOX_ANALYTICS: recorder });
    const a = event();
    await post(call, batchBody([a, a]));
    await post(call, '{');
    await post(call, batchBody([event({ stream: 'x' })]));
    await call('/feed/v1?n=4&cursor0=_first');
    await call('/reset', { method: 'POST' });
    await handler.fetch(new Request(`${origin}/v1/batch`, { method: 'POST', body: '{}', headers: { origin: 'https://evil.example' } }), {
      ...env,
      OUTBOX_ANALYTICS: recorder,
      OUTBOX_ALLOWED_ORIGINS: 'https://shop.example',
    });
    expect((await call('/feed/v1?n=4&cursor0=_first', { headers: { authorization: `Bearer ${feedToken}` } })).status).toBe(200);
    expect(points.map((p) => p.blobs)).toEqual([
      ['ok', '200', 'ingest'],
      ['bad_json', '400', 'ingest'],
      ['stream_mismatch', '400', 'ingest'],
      ['unauthorized', '401', 'feed'],
      ['not_found', '404', 'other'],
      ['origin_not_allowed', '403', 'ingest'],
    ]);
    expect(points[0]!.doubles!.slice(0, 4)).toEqual([1, 1, 1, 0]);
  });

  it('a dataset that throws never fails a request', async () => {
    const handler = createCollector({ feedToken, partitionCount: 4 });
    const broken = { writeDataPoint: () => { throw new Error('analytics down'); } };
    const response = await handler.fetch(new Request(`${origin}/v1/batch`, { method: 'POST', body: batchBody([event()]) }), { ...env, OUTBOX_ANALYTICS: broken });
    expect(response.status).toBe(200);
  });
});
