// Regression (issue 9, found by CI in Chromium, page-hide.test.ts): a tab that hid, and handed its
// events to a keepalive unload request, and only then became the sender (the Web Lock granted late
// on a loaded machine) took its own unload lease for another page's. Its takeover read detached
// the held-back events as "taken by another tab", uncounted, so the keepalive reply's
// acknowledgement found nothing: `queued` went to 0 with `sent` 0, and the stored chunk, dropped
// from the outbox's memory, was not deleted (sent again once the lease expired).
import { expect, it } from 'vitest';
import type { OutboxError } from '../../src/errors.js';
import type { QueuedEvent } from '../../src/event.js';
import type { TrackerCore } from '../../src/integration.js';
import { createMemoryStorage } from '../../src/storage/memory.js';
import { createTrackerOn } from '../../src/tracker.js';
import type { WireBatch } from '../../src/index.js';

it("a tab's own unload lease does not make its held-back events another tab's: its reply counts them sent, and storage lets them go", async () => {
  let core!: TrackerCore;
  let now = 1_000_000;
  const map = new Map<string, string>();
  const sentIds: string[] = [];
  const errors: OutboxError[] = [];
  const tracker = createTrackerOn(
    // A tab waiting for the sender's lock: it appends, and sends nothing of what storage holds.
    { integrations: [(c) => void ((core = c), c.setSending(false))] },
    {
      endpoint: 'http://127.0.0.1:9/never',
      storage: createMemoryStorage(map),
      flushIntervalMs: 50,
      now: () => now,
      onError: (e) => errors.push(e),
      transport: {
        send: (batch: WireBatch) => {
          for (const event of batch.events) sentIds.push((JSON.parse(event.json) as { id: string }).id);
          return Promise.resolve({ kind: 'ok' });
        },
      },
    },
  );
  for (let i = 0; i < 5; i++) tracker.track('n', { i }, { id: `e${i}` });
  await until(() => [...map.keys()].some((key) => key.startsWith('c:')));
  await until(() => pending(core).every((p) => p.stored));
  // The page hides: the unload path hands every event to a keepalive request and leases them.
  const events = pending(core).map((p) => p.event);
  core.holdBack(events, now + 10_000, 'own-rid');
  await until(() => map.has('l:own-rid'));
  // Only now the lock comes: the takeover read, then sending.
  await core.resync();
  core.setSending(true);
  expect(tracker.stats().queued).toBe(5);
  // The keepalive reply arrives: delivered.
  core.acknowledge(events);
  expect(tracker.stats()).toMatchObject({ sent: 5, queued: 0 });
  await until(() => ![...map.keys()].some((key) => key.startsWith('c:')));
  // Past the lease, nothing is sent again.
  now += 60_000;
  await core.rescan();
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(sentIds).toEqual([]);
  expect(errors).toEqual([]);
  await tracker.close(0);
});

function pending(core: TrackerCore): { event: QueuedEvent; stored: boolean }[] {
  const out: { event: QueuedEvent; stored: boolean }[] = [];
  core.pending((event, _inFlight, stored) => void out.push({ event, stored }));
  return out;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}
