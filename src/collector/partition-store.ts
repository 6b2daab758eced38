import type { SqlStorageLike } from './durable-object-types.js';
import type { AppendReply, AppendRequest, ReadReply, ReceiptRead, ReceiptWrite, StoredEvent } from './partition-protocol.js';

/**
 * Most feed reads one partition lets wait at once, so memory stays bounded; past it the oldest
 * waiter answers (empty) to make room. Oldest, not newest: a long poll that got its events from
 * another partition leaves its reads here waiting until their timeout, and those must not make
 * every new long poll answer at once (consumers would then poll in a tight loop).
 */
export const maxWaiters = 1000;

/**
 * One partition's storage in SQLite: the event id is the primary key (exact de-duplication, for
 * ever), `seq` the order and the feed cursor. Cursors are `seq` values in decimal: they stay valid
 * across restarts and deploys because `seq` is stored, never recomputed.
 */
export function createPartitionStore(sql: SqlStorageLike, transactionSync: <T>(closure: () => T) => T) {
  sql.exec(`CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL, received_at INTEGER NOT NULL, rid TEXT)`);
  sql.exec('CREATE TABLE IF NOT EXISTS receipts (rid TEXT PRIMARY KEY, at INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS receipts_at ON receipts (at)');
  // A request's ruled ids (JSON array, NULL: none), added to tables of earlier deploys in place.
  if (!sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('receipts')").toArray().some((column) => column.name === 'ruled')) {
    sql.exec('ALTER TABLE receipts ADD COLUMN ruled TEXT');
  }
  const waiters = new Set<() => void>();
  let receiptWrites = 0;

  /** Remembers a committed request id; prunes by age always and by count now and then. */
  const writeReceipt = ({ rid, at, ttlMs, maxReceipts, ruled }: ReceiptWrite): void => {
    const ruledJson = ruled?.length ? JSON.stringify(ruled) : null;
    sql.exec('INSERT INTO receipts (rid, at, ruled) VALUES (?, ?, ?) ON CONFLICT (rid) DO UPDATE SET at = excluded.at, ruled = excluded.ruled', rid, at, ruledJson);
    sql.exec('DELETE FROM receipts WHERE at < ?', at - ttlMs);
    if (++receiptWrites % 100 === 0) {
      const count = sql.exec<{ c: number }>('SELECT COUNT(*) AS c FROM receipts').one().c;
      if (count > maxReceipts) sql.exec('DELETE FROM receipts WHERE rid IN (SELECT rid FROM receipts ORDER BY at LIMIT ?)', count - maxReceipts);
    }
  };

  const readReceipt = (rid: string, since: number): ReceiptRead => {
    const row = sql.exec<{ ruled: string | null }>('SELECT ruled FROM receipts WHERE rid = ? AND at >= ?', rid, since).toArray()[0];
    if (!row) return { received: false };
    return row.ruled ? { received: true, ruled: JSON.parse(row.ruled) as string[] } : { received: true };
  };

  const lastSeq = () => sql.exec<{ m: number }>('SELECT COALESCE(MAX(seq), 0) AS m FROM events').one().m;

  return {
    /** Appends in one transaction; an id already stored (now or earlier in the batch) is a duplicate, even when a rule matches it now. */
    append(request: AppendRequest): AppendReply {
      const reply: AppendReply = transactionSync(() => {
        const result: AppendReply = { accepted: 0, duplicates: 0, ruled: [] };
        for (const event of request.events) {
          if (event.rule >= 0) {
            const known = sql.exec('SELECT 1 AS k FROM events WHERE id = ?', event.id).toArray().length > 0;
            if (known) result.duplicates++;
            else result.ruled.push({ id: event.id, rule: event.rule });
            continue;
          }
          const inserted = sql
            .exec('INSERT INTO events (id, data, received_at, rid) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq', event.id, event.data, request.receivedAt, request.rid)
            .toArray().length;
          if (inserted) result.accepted++;
          else result.duplicates++;
        }
        if (request.receipt) writeReceipt({ ...request.receipt, ruled: [...(request.receipt.ruled ?? []), ...result.ruled.map((r) => r.id)] });
        return result;
      });
      if (reply.accepted > 0) {
        for (const wake of waiters) wake();
        waiters.clear();
      }
      return reply;
    },

    writeReceipt,

    /** Whether `rid` was committed at or after `since`. */
    hasReceipt: (rid: string, since: number): boolean => readReceipt(rid, since).received,

    /** Whether `rid` was committed at or after `since`, and the ids of it the rules dropped. */
    receipt: readReceipt,

    /**
     * Up to `limit` events after `cursor` (`_first`, `_last` or a seq this partition gave out),
     * and no more than `maxChars` of event JSON past the first event: a page of large events stays
     * within a Worker's memory.
     */
    read(cursor: string, limit: number, maxChars = Infinity): ReadReply {
      const end = lastSeq();
      const after = cursor === '_first' ? 0 : cursor === '_last' ? end : /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
      if (Number.isNaN(after)) return { ok: false, message: `invalid cursor "${cursor}"` };
      // Past the end is a cursor from another collector's data, or made up: refuse rather than guess.
      if (after > end) return { ok: false, message: `cursor ${cursor} is past the end of the partition (${end})` };
      const rows = sql.exec<{ seq: number; data: string; received_at: number; rid: string | null }>(
        'SELECT seq, data, received_at, rid FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
        after,
        limit,
      );
      const events: StoredEvent[] = [];
      let chars = 0;
      for (const row of rows) {
        if (events.length > 0 && chars + row.data.length > maxChars) break;
        chars += row.data.length;
        events.push({ seq: row.seq, data: row.data, receivedAt: row.received_at, rid: row.rid });
      }
      return { ok: true, events, cursor: String(events.length ? events[events.length - 1]!.seq : after) };
    },

    /** Resolves when an event is appended or after `ms`; a new wait past `maxWaiters` ends the oldest one. */
    waitForAppend(ms: number): Promise<void> {
      // A Set iterates in insertion order: its first waiter is the oldest; waking removes it.
      if (waiters.size >= maxWaiters) waiters.values().next().value?.();
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        waiters.add(wake);
      });
    },
  };
}

/** A partition's store. */
export type PartitionStore = ReturnType<typeof createPartitionStore>;
