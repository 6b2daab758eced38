// Regression (issue 9, the first class on the unload path): a keepalive unload request's 2xx, or a
// received receipt, acknowledged every event `sent`, even those the reply lists as `ruled` (the
// collector dropped them by rule). They are counted `dropped.ruled` and reported now, as for a batch.
import { expect, it } from 'vitest';
import type { OutboxError } from '../../src/errors.js';
import type { QueuedEvent } from '../../src/event.js';
import type { TrackerCore } from '../../src/integration.js';
import { createTrackerOn } from '../../src/tracker.js';
import { createUnloadTransport } from '../../src/transport/beacon.js';
import type { UnloadSenders } from '../../src/transport/unload-senders.js';

it('a keepalive unload reply resolves with its body, so its ruled ids can be read', async () => {
  const senders: UnloadSenders = {
    findFetchLater: () => undefined,
    postKeepalive: () => Promise.resolve(new Response(JSON.stringify({ accepted: 1, duplicates: 0, ruled: ['e1'] }), { status: 200 })),
    queueBeacon: () => undefined,
  };
  const json = (id: string) => `{"id":"${id}","name":"n","timestamp":1}`;
  const events = ['e0', 'e1'].map((id, seq) => ({ id, name: 'n', sourceId: '', stream: '', json: json(id), bytes: json(id).length, seq }));
  const options = { endpoint: 'https://c.example/v1/batch', streams: {}, maxBatchEvents: 100, maxBatchBytes: 65_536, now: () => 1 };
  const sent = createUnloadTransport(options, senders).send(events);
  expect(sent?.path).toBe('keepalive');
  expect(await sent!.reply).toEqual({ accepted: 1, duplicates: 0, ruled: ['e1'] });
});

it('TrackerCore.acknowledge counts the ruled ids dropped by rule and reports them with their events', async () => {
  let core!: TrackerCore;
  const errors: OutboxError[] = [];
  const tracker = createTrackerOn(
    { integrations: [(c) => void (core = c)] },
    { endpoint: 'http://127.0.0.1:9/never', storage: false, flushIntervalMs: 3_600_000, onError: (e) => errors.push(e) },
  );
  for (const id of ['a', 'b', 'c']) tracker.track('n', {}, { id });
  const queued: QueuedEvent[] = [];
  core.pending((event) => void queued.push(event));
  core.acknowledge(queued, { ruled: ['b', 'not-ours'] });
  const stats = tracker.stats();
  expect(stats.sent).toBe(2);
  expect(stats.dropped.ruled).toBe(1);
  expect(stats.queued).toBe(0);
  const ruled = errors.filter((e) => e.code === 'ruled');
  expect(ruled.map((e) => e.events?.map((r) => r.id))).toEqual([['b']]);
  await tracker.close(0);
});
