// outbox/collector is safe to expose: only its routes exist, CORS never carries credentials,
// allowed origins are enforced, and nothing a client sends crashes it.
import { reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchBody, collector, event, post } from './harness.js';

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
