import type { DurableObjectStateLike } from './durable-object-types.js';
import type { AppendRequest, ReceiptWrite } from './partition-protocol.js';
import { createPartitionStore, type PartitionStore } from './partition-store.js';

/** Longest a feed read waits in a partition for an event, in ms. */
export const maxPartitionWaitMs = 30_000;

/**
 * The Durable Object of one partition (SQLite storage): export it from your Worker under the
 * class name your `wrangler.jsonc` binds (`CollectorPartition`). Its replies leave only after
 * the write is durable: Durable Objects hold outgoing messages until storage confirms (output
 * gates), so the collector's 2xx follows the commit.
 */
export class CollectorPartition {
  private readonly store: PartitionStore;

  constructor(ctx: DurableObjectStateLike, _env: unknown) {
    this.store = createPartitionStore(ctx.storage.sql, (closure) => ctx.storage.transactionSync(closure));
  }

  /** The internal protocol of partition-protocol.ts; the object is only reachable through its binding. */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (route === 'POST /append') return Response.json(this.store.append((await request.json()) as AppendRequest));
    if (route === 'POST /receipt') {
      this.store.writeReceipt((await request.json()) as ReceiptWrite);
      return Response.json({ ok: true });
    }
    if (route === 'GET /receipt') {
      return Response.json(this.store.receipt(url.searchParams.get('rid') ?? '', Number(url.searchParams.get('since'))));
    }
    if (route === 'GET /read') {
      const cursor = url.searchParams.get('cursor') ?? '';
      const limit = Number(url.searchParams.get('limit'));
      const waitMs = Math.min(Number(url.searchParams.get('waitMs')) || 0, maxPartitionWaitMs);
      const maxChars = Number(url.searchParams.get('maxChars')) || Infinity;
      let reply = this.store.read(cursor, limit, maxChars);
      if (reply.ok && reply.events.length === 0 && waitMs > 0) {
        await this.store.waitForAppend(waitMs);
        reply = this.store.read(reply.cursor, limit, maxChars);
      }
      return Response.json(reply);
    }
    return Response.json({ error: 'not_found' }, { status: 404 });
  }
}
