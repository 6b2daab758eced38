import { describe, expect, it, vi } from 'vitest';
import { decideFault, normalizeFaults } from '../../demo/collector/faults.mjs';
import { batchBody, call, control, event, post, start } from './harness.mjs';

describe('decideFault', () => {
  const never = () => 0.99;
  const always = () => 0;
  it.each([
    ['no faults', {}, 10, always, undefined],
    ['failRate 0', { failRate: 0 }, 10, always, undefined],
    ['failRate 1', { failRate: 1 }, 10, never, { status: 503, code: 'fault' }],
    ['failRate 0.5, random 0.4', { failRate: 0.5 }, 10, () => 0.4, { status: 503 }],
    ['failRate 0.5, random 0.6', { failRate: 0.5 }, 10, () => 0.6, undefined],
    ['failStatus', { failRate: 1, failStatus: 500 }, 10, always, { status: 500 }],
    ['retryAfterSec on a failure', { failRate: 1, retryAfterSec: 3 }, 10, always, { status: 503, retryAfterSec: 3 }],
    ['rejectStatus', { rejectStatus: 400 }, 10, never, { status: 400, code: 'fault' }],
    ['rejectStatus 429 with retryAfterSec', { rejectStatus: 429, retryAfterSec: 1 }, 1, never, { status: 429, retryAfterSec: 1 }],
    ['status413AboveBytes, over', { status413AboveBytes: 5 }, 6, never, { status: 413, code: 'too_large' }],
    ['status413AboveBytes, at the limit', { status413AboveBytes: 5 }, 5, never, undefined],
  ])('%s', (_, faults, bytes, random, expected) => {
    const decision = decideFault(normalizeFaults(faults), bytes, random);
    if (expected === undefined) expect(decision).toBeUndefined();
    else expect(decision).toMatchObject(expected);
  });

  it('a 400 rejectStatus carries no Retry-After', () => {
    expect(decideFault(normalizeFaults({ rejectStatus: 400, retryAfterSec: 2 }), 1, Math.random)).not.toHaveProperty(
      'retryAfterSec',
    );
  });

  it.each([
    [{ failrate: 1 }, /unknown fault "failrate"/],
    [{ failRate: 2 }, /failRate/],
    [{ failStatus: 200 }, /failStatus/],
    [{ latencyMs: '5' }, /latencyMs/],
    [[], /must be an object/],
  ])('normalizeFaults refuses %j', (faults, message) => {
    expect(() => normalizeFaults(faults)).toThrow(message);
  });
});

describe('fault injection over HTTP', () => {
  it('failRate 1 answers failStatus and stores nothing; the retry after clearing is stored', async () => {
    const collector = await start({ faults: { failRate: 1, failStatus: 500 } });
    const events = [event(), event()];
    const failed = await post(collector, batchBody(events), { query: { rid: 'r' } });

    expect(failed).toMatchObject({ status: 500, json: { error: 'fault' } });
    expect(failed.headers.get('retry-after')).toBeNull();
    expect(collector.events()).toEqual([]);
    expect(collector.stats()).toMatchObject({ faultsInjected: 1, rejected: { 500: 1 }, accepted: 0 });

    collector.clearFaults();
    expect((await post(collector, batchBody(events), { query: { rid: 'r' } })).json).toEqual({ accepted: 2, duplicates: 0 });
  });

  it('decides each request with Math.random', async () => {
    const collector = await start({ faults: { failRate: 0.5 } });
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValueOnce(0.1).mockReturnValueOnce(0.9).mockReturnValueOnce(0.2);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(collector, batchBody([event()]))).status);
    random.mockRestore();

    expect(statuses).toEqual([503, 200, 503]);
    expect(collector.events()).toHaveLength(1);
  });

  it('a 429 carries Retry-After, readable by a cross-origin page', async () => {
    const collector = await start({ faults: { failRate: 1, failStatus: 429, retryAfterSec: 7 } });
    const reply = await post(collector, batchBody([event()]), { headers: { Origin: 'https://app.example' } });

    expect(reply.status).toBe(429);
    expect(reply.headers.get('retry-after')).toBe('7');
    expect(reply.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
  });

  it('latencyMs delays the reply', async () => {
    const collector = await start({ faults: { latencyMs: 150 } });
    const startedAt = performance.now();
    const reply = await post(collector, batchBody([event()]));

    expect(reply.status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
    // Only ingest is slowed: the stats of a slow collector stay readable.
    const statsStartedAt = performance.now();
    await call(collector, '/stats');
    expect(performance.now() - statsStartedAt).toBeLessThan(100);
  });

  it('refuseForMs drops connections unanswered, then recovers by itself', async () => {
    const collector = await start();
    // A kept-alive connection from before the fault must fail as well.
    await post(collector, batchBody([]));
    collector.setFaults({ refuseForMs: 300 });

    await expect(post(collector, batchBody([event()]))).rejects.toThrow(TypeError);
    await expect(fetch(collector.url + '/health')).rejects.toThrow(TypeError);
    expect(collector.stats().refusedConnections).toBeGreaterThanOrEqual(2);

    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await post(collector, batchBody([event()]))).status).toBe(200);
    expect(collector.events()).toHaveLength(1);
  });

  it('status413AboveBytes answers 413 to bodies over it only', async () => {
    const collector = await start({ faults: { status413AboveBytes: 200 } });
    const small = await post(collector, batchBody([event()]));
    const large = await post(collector, batchBody([event({ properties: { pad: 'x'.repeat(300) } })]));

    expect(small.status).toBe(200);
    expect(large).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(collector.events()).toHaveLength(1);
  });

  it('rejectStatus answers every ingest request', async () => {
    const collector = await start({ faults: { rejectStatus: 400 } });
    const reply = await post(collector, batchBody([event()]));
    expect(reply).toMatchObject({ status: 400, json: { error: 'fault' } });
    expect(collector.events()).toEqual([]);
  });

  it('is set with POST /faults, read with GET /faults and cleared with DELETE /faults', async () => {
    const collector = await start({ testControls: true });
    const set = await control(collector, '/faults', { method: 'POST', body: JSON.stringify({ rejectStatus: 503 }) });
    expect(set).toMatchObject({ status: 200, json: { rejectStatus: 503 } });
    expect((await control(collector, '/faults')).json).toEqual({ rejectStatus: 503 });
    expect((await post(collector, batchBody([event()]))).status).toBe(503);

    // POST replaces rather than merges.
    await control(collector, '/faults', { method: 'POST', body: JSON.stringify({ latencyMs: 1 }) });
    expect(collector.faults()).toEqual({ latencyMs: 1 });

    expect((await control(collector, '/faults', { method: 'DELETE' })).json).toEqual({});
    expect((await post(collector, batchBody([event()]))).status).toBe(200);
  });

  it.each([
    ['an unknown fault', JSON.stringify({ failrate: 1 }), 'bad_shape'],
    ['invalid JSON', '{', 'bad_json'],
  ])('POST /faults with %s is a 400 and changes nothing', async (_, body, code) => {
    const collector = await start({ testControls: true, faults: { latencyMs: 1 } });
    const reply = await control(collector, '/faults', { method: 'POST', body });
    expect(reply).toMatchObject({ status: 400, json: { error: code } });
    expect(collector.faults()).toEqual({ latencyMs: 1 });
  });

  it('POST /reset clears faults with the rest', async () => {
    const collector = await start({ testControls: true, faults: { rejectStatus: 503 } });
    await post(collector, batchBody([event()]));
    expect((await control(collector, '/reset', { method: 'POST' })).status).toBe(200);
    expect(collector.faults()).toEqual({});
    expect(collector.stats()).toMatchObject({ requests: 0, faultsInjected: 0, rejected: {} });
  });
});
