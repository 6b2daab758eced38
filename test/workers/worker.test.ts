// outbox/worker in workerd: request-scoped trackers delivering through ctx.waitUntil, the KV
// spill-over when the collector is down, and its drain by a later request or a cron run.
import { createScheduledController, reset, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInvocationTracker, withTracker, type Delivery, type WithTrackerOptions } from 'outbox/worker';
import { isOutboxError, type OutboxError, type Tracker, type Transport } from 'outbox';
import { createWorkersKvStorage } from 'outbox/storage/workers-kv';
import { collector, countIds, fastTracker, spiedContext } from './harness.js';

// A Worker that tracks one event per name in the path: /a,b tracks "a" and "b".
function pathWorker(options: WithTrackerOptions, seen: Tracker[] = []) {
  return withTracker(options, {
    async fetch(request, _env, _ctx, tracker) {
      seen.push(tracker);
      for (const name of new URL(request.url).pathname.slice(1).split(',').filter(Boolean)) tracker.track(name, { path: request.url });
      return new Response('ok');
    },
  });
}

async function request(worker: ReturnType<typeof pathWorker>, path: string): Promise<{ response: Response; delivery: Delivery; waitUntilCalls: number }> {
  const { ctx, waitUntil, settled } = spiedContext();
  const response = await worker.fetch(new Request(`https://example.com${path}`), env, ctx);
  const [delivery] = (await settled()) as Delivery[];
  await waitOnExecutionContext(ctx);
  return { response, delivery: delivery!, waitUntilCalls: waitUntil.mock.calls.length };
}

const spillKeys = async () => (await env.OUTBOX_KV.list({ prefix: 'outbox:c:' })).keys.map((key) => key.name);

beforeEach(async () => {
  await reset(); // KV state otherwise persists from test to test
  await collector.up();
  await collector.reset();
});
afterEach(() => collector.up());

describe('request-scoped delivery', () => {
  it('sends the events of a request after its response, through ctx.waitUntil', async () => {
    const seen: Tracker[] = [];
    const worker = pathWorker({ ...fastTracker(), spill: createWorkersKvStorage(env.OUTBOX_KV) }, seen);
    const { ctx, waitUntil, settled } = spiedContext();

    const response = await worker.fetch(new Request('https://example.com/page_view,click'), env, ctx);

    expect(await response.text()).toBe('ok');
    // The delivery was handed to waitUntil, and nothing had gone out when the response returned.
    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect(seen[0]!.stats()).toMatchObject({ tracked: 2, sent: 0 });
    const [delivery] = (await settled()) as Delivery[];
    await waitOnExecutionContext(ctx);
    expect(delivery).toMatchObject({ delivered: true, spilled: 0, drained: 0, lost: 0 });
    expect(delivery!.stats.sent).toBe(2);
    expect((await collector.events()).map((e) => e.name)).toEqual(['page_view', 'click']);
  });

  // The tracker carries no codec since fflate left (design.md, departure 7): workerd's own
  // CompressionStream gzips, and the URL says so.
  it('gzips a batch above compressAboveBytes through workerd’s CompressionStream', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `event_${i}`).join(',');
    const { delivery } = await request(pathWorker(fastTracker()), `/${names}`);
    expect(delivery).toMatchObject({ delivered: true, lost: 0 });
    const stats = await collector.stats();
    expect(stats.requests).toBe(1);
    expect(stats.bytesInflated).toBeGreaterThan(stats.bytesIn * 4); // 40 near-identical events
    expect(await collector.events()).toHaveLength(40);
  });

  it('gives each request its own tracker, which sends only that request’s events', async () => {
    const seen: Tracker[] = [];
    const worker = pathWorker(fastTracker(), seen);

    const [a, b] = await Promise.all([request(worker, '/a1,a2'), request(worker, '/b1,b2,b3')]);

    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect([a.waitUntilCalls, b.waitUntilCalls]).toEqual([1, 1]);
    expect([a.delivery.stats.sent, b.delivery.stats.sent]).toEqual([2, 3]);
    expect((await collector.events()).map((e) => e.name).sort()).toEqual(['a1', 'a2', 'b1', 'b2', 'b3']);
  });

  it('takes a bare fetch function (the README quick start)', async () => {
    const worker = withTracker({ endpoint: collector.endpoint }, async (request, env, ctx, tracker) => {
      tracker.track('page_view', { path: new URL(request.url).pathname });
      return new Response('ok'); // the batch goes out after the response, through ctx.waitUntil
    });
    const { ctx, waitUntil, settled } = spiedContext();

    expect(await (await worker.fetch(new Request('https://example.com/readme'), env, ctx)).text()).toBe('ok');

    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect((await settled())[0]).toMatchObject({ delivered: true });
    expect(await collector.events()).toMatchObject([{ name: 'page_view', properties: { path: '/readme' } }]);
  });

  it('still delivers what a handler tracked before it threw', async () => {
    const worker = withTracker(fastTracker(), {
      async fetch(_request, _env, _ctx, tracker): Promise<Response> {
        tracker.track('handler_error', { message: 'boom' });
        throw new Error('boom');
      },
    });
    const { ctx, waitUntil, settled } = spiedContext();

    await expect(worker.fetch(new Request('https://example.com/'), env, ctx)).rejects.toThrow('boom');

    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect((await settled())[0]).toMatchObject({ delivered: true });
    expect((await collector.events()).map((e) => e.name)).toEqual(['handler_error']);
  });

  it('gives a scheduled run a tracker too, delivered through ctx.waitUntil', async () => {
    const worker = withTracker(fastTracker(), {
      async scheduled(controller, _env, _ctx, tracker) {
        tracker.track('cron_ran', { cron: controller.cron });
      },
    });
    const { ctx, waitUntil, settled } = spiedContext();

    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *', scheduledTime: 1_700_000_000_000 }), env, ctx);

    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect((await settled())[0]).toMatchObject({ delivered: true });
    expect(await collector.events()).toMatchObject([{ name: 'cron_ran', properties: { cron: '*/5 * * * *' } }]);
    expect('fetch' in worker).toBe(false); // no fetch of yours, none exported
  });
});

describe('KV spill-over while the collector is down', () => {
  // While the collector is down a request gives up after 500 ms (the flush can only time out);
  // once it is up, requests get the default 10 s, so a loaded machine cannot fail them.
  const spillOptions = (overrides: Partial<WithTrackerOptions> = {}): WithTrackerOptions => ({
    ...fastTracker(),
    spill: createWorkersKvStorage(env.OUTBOX_KV),
    ...overrides,
  });
  const whileDown = (overrides: Partial<WithTrackerOptions> = {}) => spillOptions({ flushTimeoutMs: 500, ...overrides });

  it('spills what was not acknowledged, and a later request delivers it: every event once', async () => {
    await collector.down();

    const first = await request(pathWorker(whileDown()), '/a1,a2');

    expect(first.waitUntilCalls).toBe(1);
    expect(first.delivery).toMatchObject({ delivered: false, spilled: 2, lost: 0 });
    expect(await spillKeys()).toHaveLength(1); // one key for the whole request
    expect(await collector.stats()).toMatchObject({ accepted: 0 });
    expect((await collector.stats()).refusedConnections).toBeGreaterThan(0); // it did try

    await collector.up();
    const second = await request(pathWorker(spillOptions()), '/b1');

    expect(second.delivery).toMatchObject({ delivered: true, spilled: 0, drained: 2, lost: 0 });
    const events = await collector.events();
    expect(events.map((e) => e.name).sort()).toEqual(['a1', 'a2', 'b1']);
    expect([...countIds(events).values()].every((n) => n === 1)).toBe(true);
    expect(await collector.stats()).toMatchObject({ accepted: 3, duplicates: 0 });
    expect(await spillKeys()).toEqual([]);
  });

  it('keeps ids and timestamps of spilled events', async () => {
    const signup = (options: WithTrackerOptions) =>
      withTracker(options, {
        async fetch(_request, _env, _ctx, tracker) {
          tracker.track('signup', { plan: 'pro' }, { id: 'evt-fixed-1', timestamp: 1_700_000_000_123, sourceId: 'user-9', stream: 'billing' });
          return new Response('ok');
        },
      });
    await collector.down();
    expect((await request(signup(whileDown()), '/')).delivery).toMatchObject({ spilled: 1 });
    await collector.up();

    expect((await request(pathWorker(spillOptions()), '/')).delivery).toMatchObject({ drained: 1 });

    expect(await collector.events()).toContainEqual({ id: 'evt-fixed-1', name: 'signup', timestamp: 1_700_000_000_123, sourceId: 'user-9', stream: 'billing', properties: { plan: 'pro' } });
  });

  it('lets a scheduled run drain the spill-over', async () => {
    await collector.down();
    expect((await request(pathWorker(whileDown()), '/a1,a2,a3')).delivery).toMatchObject({ spilled: 3 });
    await collector.up();
    const worker = pathWorker(spillOptions({ drainOnFetch: false }));

    // drainOnFetch: false — a request delivers its own events but leaves the spill-over alone.
    expect((await request(worker, '/b1')).delivery).toMatchObject({ delivered: true, drained: 0 });
    expect(await spillKeys()).toHaveLength(1);

    const { ctx, waitUntil, settled } = spiedContext();
    await worker.scheduled(createScheduledController(), env, ctx);
    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect((await settled())[0]).toMatchObject({ delivered: true, drained: 3 });
    const events = await collector.events();
    expect(events.map((e) => e.name).sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect([...countIds(events).values()].every((n) => n === 1)).toBe(true);
    expect(await spillKeys()).toEqual([]);
  });

  it('keeps a spilled chunk when its drain fails, and delivers it later', async () => {
    const down = pathWorker(whileDown());
    await collector.down();
    await request(down, '/a1,a2');

    // A request with nothing of its own to send drains, but the collector is still down.
    const failedDrain = await request(down, '/');
    expect(failedDrain.delivery).toMatchObject({ delivered: true, drained: 0 });
    expect(await spillKeys()).toHaveLength(1);

    await collector.up();
    expect((await request(pathWorker(spillOptions()), '/')).delivery).toMatchObject({ drained: 2 });
    expect((await collector.events()).map((e) => e.name).sort()).toEqual(['a1', 'a2']);
    expect(await spillKeys()).toEqual([]);
  });

  it('writes a new KV key per spill and never rewrites one (one write per second per key)', async () => {
    const puts: string[] = [];
    const kv = env.OUTBOX_KV;
    const recording = {
      get: (key: string) => kv.get(key, 'text'),
      put: (key: string, value: string, options?: KVNamespacePutOptions) => (puts.push(key), kv.put(key, value, options)),
      delete: (key: string) => kv.delete(key),
      list: (options?: KVNamespaceListOptions) => kv.list(options),
    };
    const worker = pathWorker(whileDown({ spill: createWorkersKvStorage(recording) }));
    await collector.down();

    await Promise.all([request(worker, '/a1'), request(worker, '/b1'), request(worker, '/c1')]);

    expect(puts).toHaveLength(3);
    expect(new Set(puts).size).toBe(3);
    expect(puts.every((key) => key.startsWith('outbox:c:') && key.length < 64)).toBe(true);
  });

  it('spills an event tracked while finish() runs instead of leaving it behind', async () => {
    // A transport whose first request completes when released and whose later ones never do:
    // like a fetch the end of the invocation cuts off.
    const sent: string[][] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transport: Transport = {
      async send(batch) {
        sent.push(batch.events.map((e) => JSON.parse(e.json).name));
        await (sent.length === 1 ? released : new Promise(() => {}));
        return { kind: 'ok' };
      },
    };
    const { tracker, finish } = createInvocationTracker({ ...spillOptions({ transport }), drain: false });
    tracker.track('a');
    const finishing = finish();
    while (!sent.length) await new Promise((resolve) => setTimeout(resolve, 1));

    tracker.track('late'); // e.g. from a response body still streaming
    release();
    const delivery = await finishing;

    // close() resolves once what was queued before it is acknowledged; 'late' came after, and the
    // tracker never sends it, or its request has not finished: either way it must not vanish.
    expect(sent[0]).toEqual(['a']);
    expect(delivery).toMatchObject({ delivered: false, spilled: 1, lost: 0 });
    const [key] = await spillKeys();
    expect(JSON.parse((await env.OUTBOX_KV.get(key!))!).map((e: { name: string }) => e.name)).toEqual(['late']);
  });

  it('reports events as lost when there is no spill storage', async () => {
    const errors: OutboxError[] = [];
    const worker = pathWorker({ ...fastTracker({ onError: (error) => errors.push(error) }), flushTimeoutMs: 300 });
    await collector.down();

    const { delivery } = await request(worker, '/a1,a2');

    expect(delivery).toMatchObject({ delivered: false, spilled: 0, lost: 2 });
    const lost = errors.filter((error) => error.code === 'storage');
    expect(lost).toHaveLength(1);
    expect(isOutboxError(lost[0])).toBe(true);
    expect(lost[0]!.events.map((e) => e.name)).toEqual(['a1', 'a2']);
  });

  it('reports and removes a spilled chunk it cannot read', async () => {
    const errors: OutboxError[] = [];
    await env.OUTBOX_KV.put('outbox:c:000000000:garbage', 'not json', { expirationTtl: 60 });
    const worker = pathWorker(spillOptions({ onError: (error) => errors.push(error) }));

    const { delivery } = await request(worker, '/a1');

    expect(delivery).toMatchObject({ delivered: true, drained: 0 });
    expect(errors.map((error) => error.message)).toContainEqual(expect.stringContaining('"c:000000000:garbage" is unreadable'));
    expect(await spillKeys()).toEqual([]);
  });
});
