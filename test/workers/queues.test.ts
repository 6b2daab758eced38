// outbox/transport/queues: message and batch sizing to production limits (the local simulator
// accepts more), the transport inside a tracker, the consumer's ack/retry, and the whole path in
// workerd: request → tracker → Queue producer → local queue → consumer → collector.
import { createExecutionContext, createMessageBatch, getQueueResult, reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { withTracker, type Delivery } from 'outbox/worker';
import { createTracker, type OutboxError } from 'outbox';
import { createQueuesTransport, cutMessages, decodeQueueMessage, forwardQueueBatch, groupMessages, queuesLimits, type QueueMessageDraft } from 'outbox/transport/queues';
import { collector, countIds, fastTracker, spiedContext } from './harness.js';

const utf8 = (text: string) => new TextEncoder().encode(text).length;
const event = (id: string, payload = '') => {
  const json = JSON.stringify({ id, name: 'e', timestamp: 1, properties: { payload } });
  return { json, bytes: utf8(json) };
};

/** A Queue producer that records every sendBatch call; `failures` calls throw first. */
function recordingQueue(failures = 0) {
  const calls: { body: string; contentType?: string }[][] = [];
  return {
    calls,
    async sendBatch(messages: Iterable<{ body: string; contentType?: 'text' }>) {
      if (failures-- > 0) throw new Error('Queue sendBatch failed: simulated outage');
      calls.push([...messages]);
    },
  };
}

function expectWithinLimits(calls: { body: string }[][]): void {
  for (const call of calls) {
    expect(call.length).toBeLessThanOrEqual(queuesLimits.maxBatchMessages);
    const bytes = call.reduce((sum, message) => sum + utf8(message.body) + queuesLimits.metadataBytes, 0);
    expect(bytes).toBeLessThanOrEqual(queuesLimits.maxBatchBytes);
    for (const message of call) expect(utf8(message.body) + queuesLimits.metadataBytes).toBeLessThanOrEqual(queuesLimits.maxMessageBytes);
  }
}

beforeEach(async () => {
  await reset();
  await collector.up();
  await collector.reset();
});

describe('sizing to production limits (pure)', () => {
  it.each([
    { label: '300 events of 2 KB', events: Array.from({ length: 300 }, (_, i) => event(`a${i}`, 'x'.repeat(2000))) },
    { label: '100 events of 20 KB, multi-byte', events: Array.from({ length: 100 }, (_, i) => event(`b${i}`, 'é🌍'.repeat(3300))) },
    { label: 'one event exactly filling a message', events: [event('c0', 'x'.repeat(queuesLimits.maxMessageBytes - queuesLimits.metadataBytes - 100))] },
  ])('cuts $label into messages that fit, in order', ({ events }) => {
    const messages = cutMessages(events, 1_700_000_000_000)!;

    for (const message of messages) {
      expect(message.bytes).toBe(utf8(message.body) + queuesLimits.metadataBytes);
      expect(message.bytes).toBeLessThanOrEqual(queuesLimits.maxMessageBytes);
    }
    const ids = messages.flatMap((message) => decodeQueueMessage(message.body)!.map((e) => e.id));
    expect(ids).toEqual(events.map((e) => JSON.parse(e.json).id));
  });

  it('refuses an event that cannot fit one message', () => {
    expect(cutMessages([event('small'), event('huge', 'x'.repeat(queuesLimits.maxMessageBytes))], 0)).toBeUndefined();
  });

  it.each([
    { label: '250 small messages', sizes: Array(250).fill(1000), groups: [100, 100, 50] },
    { label: '5 messages of 100 KB', sizes: Array(5).fill(100_000), groups: [2, 2, 1] },
    { label: 'messages that fill 256 KB exactly', sizes: [128_000, 128_000, 1], groups: [2, 1] },
  ])('groups $label into sendBatch calls within 100 messages and 256 KB', ({ sizes, groups }) => {
    const drafts: QueueMessageDraft[] = sizes.map((bytes, i) => ({ body: String(i), bytes }));
    expect(groupMessages(drafts).map((group) => group.length)).toEqual(groups);
  });
});

describe('the Queues transport inside a tracker', () => {
  it('sends a large batch as several sendBatch calls, each within the limits', async () => {
    const queue = recordingQueue();
    const tracker = createTracker({ endpoint: 'https://unused.invalid/', transport: createQueuesTransport(queue), storage: false, maxBatchEvents: 1000, maxBatchBytes: 2 * 1024 ** 2 });
    for (let i = 0; i < 400; i++) tracker.track('big', { i, payload: 'p'.repeat(3000) });

    expect(await tracker.flush(5000)).toBe(true);

    expect(queue.calls.length).toBeGreaterThan(4); // 1.2 MB cannot go in fewer than five 256 KB calls
    expectWithinLimits(queue.calls);
    const received = queue.calls.flat().flatMap((message) => decodeQueueMessage(message.body)!);
    expect(received.map((e) => (e.properties as { i: number }).i)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(queue.calls.flat().every((message) => message.contentType === 'text')).toBe(true);
  });

  it('retries when sendBatch fails, and loses nothing', async () => {
    const queue = recordingQueue(2);
    const errors: OutboxError[] = [];
    const tracker = createTracker({ ...fastTracker(), transport: createQueuesTransport(queue), storage: false, onError: (error) => errors.push(error) });
    tracker.track('a');
    tracker.track('b');

    expect(await tracker.flush(5000)).toBe(true);

    expect(errors.map((error) => error.code)).toEqual(['retry', 'retry']);
    expect(tracker.stats()).toMatchObject({ sent: 2, retried: 4 });
    expect(queue.calls.flat().flatMap((message) => decodeQueueMessage(message.body)!.map((e) => e.name))).toEqual(['a', 'b']);
  });

  it('drops an event too big for any message as too_large, and sends the rest', async () => {
    const queue = recordingQueue();
    const errors: OutboxError[] = [];
    const tracker = createTracker({ ...fastTracker(), transport: createQueuesTransport(queue), storage: false, maxEventBytes: 512 * 1024, maxBatchBytes: 1024 ** 2, onError: (error) => errors.push(error) });
    tracker.track('before');
    tracker.track('huge', { payload: 'x'.repeat(200_000) });
    tracker.track('after');

    expect(await tracker.flush(5000)).toBe(true);

    expect(tracker.stats().dropped.too_large).toBe(1);
    expect(errors.filter((error) => error.code === 'too_large').flatMap((error) => error.events.map((e) => e.name))).toEqual(['huge']);
    expect(queue.calls.flat().flatMap((message) => decodeQueueMessage(message.body)!.map((e) => e.name)).sort()).toEqual(['after', 'before']);
  });
});

describe('the consumer: forwardQueueBatch', () => {
  const message = (id: string, body: unknown) => ({ id, timestamp: new Date(), attempts: 1, body });
  const body = (...names: string[]) => JSON.stringify({ sentAt: 1, events: names.map((name) => ({ id: `id-${name}`, name, timestamp: 1 })) });

  it('acknowledges every message once the collector acknowledged their events', async () => {
    const batch = createMessageBatch('outbox-events', [message('m1', body('a', 'b')), message('m2', body('c'))]);
    const ctx = createExecutionContext();

    const result = await forwardQueueBatch(batch, fastTracker());

    expect(result).toEqual({ acked: 2, retried: 0, malformed: 0 });
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ['m1', 'm2'], retryMessages: [] });
    expect((await collector.events()).map((e) => e.id)).toEqual(['id-a', 'id-b', 'id-c']);
  });

  it('hands every message back to the queue when the collector is down', async () => {
    await collector.down();
    const batch = createMessageBatch('outbox-events', [message('m1', body('a')), message('m2', body('b'))]);
    const ctx = createExecutionContext();

    const result = await forwardQueueBatch(batch, { ...fastTracker(), flushTimeoutMs: 400 });

    expect(result).toEqual({ acked: 0, retried: 2, malformed: 0 });
    const queueResult = await getQueueResult(batch, ctx);
    expect(queueResult.explicitAcks).toEqual([]);
    expect(queueResult.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['m1', 'm2']);
  });

  it('acknowledges and reports a message that is not an outbox batch', async () => {
    const errors: OutboxError[] = [];
    const batch = createMessageBatch('outbox-events', [message('m1', 'not json'), message('m2', { events: [{ id: 'id-ok', name: 'ok', timestamp: 1 }] })]);
    const ctx = createExecutionContext();

    const result = await forwardQueueBatch(batch, fastTracker({ onError: (error) => errors.push(error) }));

    expect(result).toEqual({ acked: 2, retried: 0, malformed: 1 });
    expect(errors.map((error) => error.code)).toEqual(['rejected']);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(['m1', 'm2']);
    expect((await collector.events()).map((e) => e.id)).toEqual(['id-ok']);
  });
});

describe('the Queues path end to end in workerd', () => {
  const queueWorker = (count: number, payload = '') =>
    withTracker((e: Cloudflare.Env) => fastTracker({ transport: createQueuesTransport(e.OUTBOX_EVENTS) }), {
      async fetch(_request, _env, _ctx, tracker) {
        for (let i = 0; i < count; i++) tracker.track('queued', { i, payload });
        return new Response('ok');
      },
    });

  it.each([
    { label: '30 small events', count: 30, payload: '' },
    { label: '200 events of 3 KB (several messages and sendBatch calls)', count: 200, payload: 'q'.repeat(3000) },
  ])('delivers $label from a request to the collector, each once', async ({ count, payload }) => {
    const { ctx, waitUntil, settled } = spiedContext();

    await queueWorker(count, payload).fetch(new Request('https://example.com/'), env, ctx);

    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect((await settled())[0] as Delivery).toMatchObject({ delivered: true, spilled: 0 });
    const events = await collector.waitForEvents(count);
    expect(events.map((e) => (e.properties as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect([...countIds(events).values()].every((n) => n === 1)).toBe(true);
    expect(await collector.stats()).toMatchObject({ accepted: count, duplicates: 0 });
  });
});
