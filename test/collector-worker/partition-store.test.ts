// One partition's store on a real Durable Object's SQLite (runInDurableObject): what an append
// answers, what a read returns, and the bound on long-poll waiters.
import { reset, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPartitionStore, maxWaiters } from '../../src/collector/partition-store.js';

beforeEach(async () => {
  await reset();
});

/** Runs `fn` with a store over a fresh object's SQL storage. */
function withStore<T>(fn: (store: ReturnType<typeof createPartitionStore>) => T | Promise<T>): Promise<T> {
  const stub = env.OUTBOX_PARTITIONS.get(env.OUTBOX_PARTITIONS.idFromName(`store-${Math.random()}`));
  return runInDurableObject(stub, (_instance, state) => fn(createPartitionStore(state.storage.sql, (closure) => state.storage.transactionSync(closure))));
}

const ev = (id: string, rule = -1) => ({ id, data: JSON.stringify({ id, name: 'n', timestamp: 1 }), rule });

describe('partition store', () => {
  it('appends in order, catches a repeat within the batch and across batches, and reads from cursors', async () => {
    await withStore((store) => {
      expect(store.append({ events: [ev('a'), ev('b'), ev('a')], rid: 'r', receivedAt: 5 })).toEqual({ accepted: 2, duplicates: 1, ruled: [] });
      expect(store.append({ events: [ev('b'), ev('c')], rid: null, receivedAt: 6 })).toEqual({ accepted: 1, duplicates: 1, ruled: [] });
      const all = store.read('_first', 10);
      expect(all).toMatchObject({ ok: true, cursor: '3' });
      expect(all.ok && all.events.map((e) => [e.seq, JSON.parse(e.data).id, e.rid, e.receivedAt])).toEqual([
        [1, 'a', 'r', 5],
        [2, 'b', 'r', 5],
        [3, 'c', null, 6],
      ]);
      expect(store.read('1', 1)).toMatchObject({ ok: true, cursor: '2' });
      expect(store.read('_last', 10)).toEqual({ ok: true, events: [], cursor: '3' });
      expect(store.read('4', 10)).toMatchObject({ ok: false, message: expect.stringMatching(/past the end/) });
      expect(store.read('x', 10)).toMatchObject({ ok: false });
    });
  });

  it('answers a ruled event as ruled, unless it was stored before (then a duplicate), and stores nothing for it', async () => {
    await withStore((store) => {
      store.append({ events: [ev('old')], rid: null, receivedAt: 1 });
      expect(store.append({ events: [ev('old', 0), ev('new', 1)], rid: null, receivedAt: 2 })).toEqual({ accepted: 0, duplicates: 1, ruled: [{ id: 'new', rule: 1 }] });
      expect(store.read('_first', 10)).toMatchObject({ ok: true, cursor: '1' });
    });
  });

  it('stops a read at maxChars, but always returns one event', async () => {
    await withStore((store) => {
      store.append({ events: ['a', 'b', 'c'].map((id) => ev(id)), rid: null, receivedAt: 1 });
      const size = ev('a').data.length;
      expect(store.read('_first', 10, size * 2)).toMatchObject({ ok: true, cursor: '2' });
      expect(store.read('_first', 10, size * 2 - 1)).toMatchObject({ ok: true, cursor: '1' });
      expect(store.read('_first', 10, 1)).toMatchObject({ ok: true, cursor: '1' });
    });
  });

  it('keeps a receipt with the events in one transaction, and checks its age', async () => {
    await withStore((store) => {
      store.append({ events: [ev('a')], rid: 'r1', receivedAt: 1000, receipt: { rid: 'r1', at: 1000, ttlMs: 500, maxReceipts: 10 } });
      expect(store.hasReceipt('r1', 900)).toBe(true);
      expect(store.hasReceipt('r1', 1001)).toBe(false);
      expect(store.hasReceipt('r2', 0)).toBe(false);
    });
  });

  it('keeps the ids the rules dropped with the receipt: its own and those the front passes in', async () => {
    await withStore((store) => {
      const receipt = { at: 1000, ttlMs: 500, maxReceipts: 10 };
      store.append({ events: [ev('a'), ev('b', 0)], rid: 'r1', receivedAt: 1000, receipt: { rid: 'r1', ...receipt } });
      store.append({ events: [ev('c')], rid: 'r2', receivedAt: 1000, receipt: { rid: 'r2', ...receipt } });
      store.writeReceipt({ rid: 'r3', ...receipt, ruled: ['x', 'y'] });
      expect(store.receipt('r1', 900)).toEqual({ received: true, ruled: ['b'] });
      expect(store.receipt('r2', 900)).toEqual({ received: true });
      expect(store.receipt('r3', 900)).toEqual({ received: true, ruled: ['x', 'y'] });
      expect(store.receipt('r1', 1001)).toEqual({ received: false });
    });
  });

  it('adds the ruled column to a receipts table of an earlier deploy, keeping its receipts', async () => {
    const stub = env.OUTBOX_PARTITIONS.get(env.OUTBOX_PARTITIONS.idFromName(`store-${Math.random()}`));
    await runInDurableObject(stub, (_instance, state) => {
      const { sql } = state.storage;
      // The object's constructor made today's table: put back the one an earlier deploy made.
      sql.exec('DROP TABLE receipts');
      sql.exec('CREATE TABLE receipts (rid TEXT PRIMARY KEY, at INTEGER NOT NULL)');
      sql.exec("INSERT INTO receipts (rid, at) VALUES ('old', 1000)");
      const store = createPartitionStore(sql, (closure) => state.storage.transactionSync(closure));
      expect(store.receipt('old', 0)).toEqual({ received: true });
      store.append({ events: [ev('a', 0)], rid: 'new', receivedAt: 1000, receipt: { rid: 'new', at: 1000, ttlMs: 500, maxReceipts: 10 } });
      expect(store.receipt('new', 0)).toEqual({ received: true, ruled: ['a'] });
      // A second start (every object wake-up) finds the column there.
      expect(createPartitionStore(sql, (closure) => state.storage.transactionSync(closure)).receipt('new', 0)).toEqual({ received: true, ruled: ['a'] });
    });
  });

  it(`lets at most ${maxWaiters} long polls wait: the next one ends the oldest (not itself); an append wakes them all`, async () => {
    await withStore(async (store) => {
      const done = new Set<number>();
      const waiting = Array.from({ length: maxWaiters }, (_, i) => store.waitForAppend(60_000).then(() => done.add(i)));
      // Over the bound: the oldest wait ends (a long poll's leftover read), the newest waits.
      let newestDone = false;
      const newest = store.waitForAppend(60_000).then(() => (newestDone = true));
      await waiting[0];
      await Promise.resolve();
      expect([...done]).toEqual([0]);
      expect(newestDone).toBe(false);
      store.append({ events: [ev('wake')], rid: null, receivedAt: 1 });
      await Promise.all([...waiting, newest]);
      expect(done.size).toBe(maxWaiters);
    });
  });
});
