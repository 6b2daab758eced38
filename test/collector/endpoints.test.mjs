import { describe, expect, it } from 'vitest';
import { startCollector } from '../../demo/collector/collector.mjs';
import { batchBody, call, control, event, post, start } from './harness.mjs';

describe('CORS (ingest and counters only, never with credentials)', () => {
  it.each([
    ['a success', (c) => post(c, batchBody([event()]), { headers: { Origin: 'https://app.example' } })],
    ['an error', (c) => post(c, '{', { headers: { Origin: 'https://app.example' } })],
    ['a receipt', (c) => call(c, '/v1/batch?receipt=r1', { headers: { Origin: 'https://app.example' } })],
  ])('headers are on %s: any origin, no credentials', async (_, send) => {
    const collector = await start();
    const { headers } = await send(collector);
    expect(headers.get('access-control-allow-origin')).toBe('*');
    expect(headers.get('access-control-allow-credentials')).toBeNull();
    expect(headers.get('access-control-allow-methods')).toMatch(/GET, POST.*OPTIONS/);
    expect(headers.get('access-control-allow-headers')).toBe('*');
    expect(headers.get('access-control-expose-headers')).toBe('Retry-After');
  });

  it('with allowedOrigins, echoes an allowed Origin and gives others nothing', async () => {
    const collector = await start({ allowedOrigins: ['https://app.example'] });
    const allowed = await post(collector, batchBody([event()]), { headers: { Origin: 'https://app.example' } });
    const other = await post(collector, batchBody([event()]), { headers: { Origin: 'https://evil.example' } });

    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toMatch(/Origin/);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('answers OPTIONS with 204, echoes the requested headers and counts a preflight', async () => {
    const collector = await start();
    const reply = await call(collector, '/v1/batch?rid=1', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-api-key',
      },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-headers')).toBe('content-type,x-api-key');
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(collector.stats()).toMatchObject({ preflights: 1, requests: 0 });
  });

  it.each(['/feed/v1?n=4&cursor0=_first', '/nope'])('GET %s carries no CORS headers', async (path) => {
    const collector = await start();
    const reply = await call(collector, path, { headers: { Origin: 'https://app.example' } });
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('read-side endpoints', () => {
  it('GET /stats equals stats()', async () => {
    const collector = await start();
    await post(collector, batchBody([event(), event()]));
    await post(collector, 'x');
    const { json } = await call(collector, '/stats');

    expect(json).toEqual({ ...collector.stats(), eventsPerSecond: json.eventsPerSecond });
    expect(Object.keys(json).sort()).toEqual(
      [
        'accepted',
        'bytesIn',
        'bytesInflated',
        'connectionTests',
        'duplicateRequests',
        'duplicates',
        'eventsPerSecond',
        'faultsInjected',
        'lastEventAt',
        'preflights',
        'refusedConnections',
        'rejected',
        'requests',
        'ruled',
        'signatureFailures',
      ].sort(),
    );
    expect(json).toMatchObject({ requests: 2, accepted: 2, rejected: { 400: 1 }, eventsPerSecond: 2 });
  });

  it('GET /events (a test control) lists stored events, from ?since=', async () => {
    const collector = await start({ testControls: true });
    const events = [event(), event(), event()];
    await post(collector, batchBody(events));

    expect((await control(collector, '/events')).json).toEqual({ total: 3, events });
    expect((await control(collector, '/events?since=2')).json).toEqual({ total: 3, events: events.slice(2) });
    expect((await control(collector, '/events?since=-1')).status).toBe(400);
  });

  it.each([
    ['GET /health', '/health', 'GET', 200, { ok: true }],
    ['an unknown path', '/v2/batch', 'GET', 404, { error: 'not_found' }],
    ['GET on the ingest path without ?receipt', '/v1/batch', 'GET', 400, { error: 'bad_parameter' }],
    ['PUT on the ingest path', '/v1/batch', 'PUT', 405, { error: 'method_not_allowed' }],
  ])('%s', async (_, path, method, status, json) => {
    const collector = await start();
    expect(await call(collector, path, { method })).toMatchObject({ status, json });
  });

  it('GET /live streams a stats event at once and every 250 ms until the client leaves', async () => {
    const collector = await start();
    await post(collector, batchBody([event()]));
    const aborter = new AbortController();
    const response = await fetch(collector.url + '/live', { signal: aborter.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while ((text.match(/event: stats/g) ?? []).length < 2) text += (await reader.read()).value;
    aborter.abort();

    const first = /event: stats\ndata: (.*)\n\n/.exec(text);
    expect(JSON.parse(first[1])).toMatchObject({ accepted: 1, requests: 1 });
  });

  it('close() ends open /live streams and answers long polls with their checkpoints', async () => {
    const collector = await startCollector({ quiet: true });
    const live = await fetch(collector.url + '/live');
    const poll = fetch(`${collector.feedUrl}?n=4&cursor0=_last&wait=30`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = performance.now();
    await collector.close();

    expect(performance.now() - startedAt).toBeLessThan(500);
    expect(await live.text()).toMatch(/event: stats/);
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('{"partition":0,"cursor":"0"}\n');
  });
});

describe('waitFor', () => {
  it('resolves once the predicate holds', async () => {
    const collector = await start();
    setTimeout(() => post(collector, batchBody([event()])), 30);
    await collector.waitFor((c) => c.events().length === 1, 2000);
    expect(collector.events()).toHaveLength(1);
  });

  it('rejects on timeout naming the predicate', async () => {
    const collector = await start();
    await expect(collector.waitFor((c) => c.events().length === 5, 60)).rejects.toThrow(
      /waitFor timed out after 60 ms waiting for .*length === 5/,
    );
  });
});
