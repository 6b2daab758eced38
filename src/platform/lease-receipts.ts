import { ruledIds } from '../batch-outcome.js';
import { OutboxError, type OutboxEventRecord } from '../errors.js';
import type { TrackerCore } from '../integration.js';
import { parseJson, writeAll } from '../stored-records.js';
import { askReceipt, receiptSettleMs, type ReceiptAnswer } from '../receipts.js';
import { unloadLeaseMs } from './page-lifecycle.js';
import { ownUnloadRids, unloadLeases } from './unload-leases.js';

/** A lease found by a new sender: a request of a closed page or tab that may have arrived. */
export interface FoundLease {
  rid: string;
  ids: string[];
  until: number;
  stream: string;
  /** When it was written (0: unknown, an older outbox). */
  at: number;
}

/**
 * What to do with leases once their receipts are in (see {@link decideLeases}), a triple:
 * `acked`, event ids the collector has (acknowledge them, never send them again); `release`, leases
 * answered (received or missing: delete them, so their events are free at once); `retry`, leases
 * to ask again (unreachable collector; the others unanswered expire as before).
 */
export type LeaseDecision = [acked: Set<string>, release: FoundLease[], retry: FoundLease[]];

/** How often unreachable receipts are asked again while their leases last. */
export const receiptRetryMs = 2000;

/**
 * Pure: which events the collector has (those of any received lease: an unload request and a
 * batch in flight may carry the same events), which leases end, and which to ask again.
 */
export function decideLeases(leases: readonly FoundLease[], answers: readonly ReceiptAnswer[], now: number): LeaseDecision {
  const acked = new Set<string>();
  const release: FoundLease[] = [];
  const retry: FoundLease[] = [];
  leases.forEach((lease, i) => {
    const answer = answers[i];
    if (answer) lease.ids.forEach((id) => acked.add(id));
    if (answer || (answer === false && now - lease.at >= receiptSettleMs)) release.push(lease);
    else if (answer !== null && lease.until - now > receiptRetryMs) retry.push(lease);
  });
  return [acked, release, retry];
}

/**
 * The unexpired leases in storage, plus the unload leases only localStorage holds (WebKit drops
 * the IndexedDB write made at pagehide), which are written to IndexedDB now: the outbox's own
 * lease check then holds their events back while we ask. Never this page's own unload requests
 * (`ownUnloadRids`: their reply or receipt settles them here). Never rejects.
 */
export async function findLeases(core: TrackerCore): Promise<FoundLease[]> {
  const { storage, options } = core;
  const now = options.now();
  const found: FoundLease[] = [];
  try {
    for (const key of await storage!.keys('l:')) {
      const lease = JSON.parse((await storage!.get(key)) ?? '0') as FoundLease | 0;
      if (lease && lease.until > now && Array.isArray(lease.ids) && !ownUnloadRids.has(key.slice(2))) found.push({ ...lease, rid: key.slice(2), stream: lease.stream ?? '', at: lease.at ?? 0 });
    }
    const local = unloadLeases(options, () => []).filter((lease) => !ownUnloadRids.has(lease.rid) && !found.some((l) => l.rid === lease.rid));
    for (const lease of local) {
      const at = lease.until - unloadLeaseMs;
      await storage!.set(`l:${lease.rid}`, JSON.stringify({ ...lease, at }));
      found.push({ ...lease, at });
    }
  } catch (error) {
    core.report(new OutboxError('storage', 'reading leases failed; they expire as usual', { cause: error }));
  }
  return found;
}

// Asks for every receipt at once, then in one transaction takes acknowledged events out of their
// chunks (counted sent, or ruled and reported) and deletes answered leases. Those chunks are under
// lease, so no outbox has loaded them: its next read sees them after this, or not at all. The
// ids go to `announce` (the other tabs' copies, as for any acknowledgement). Returns what to ask again.
async function settle(core: TrackerCore, leases: readonly FoundLease[], announce: (ids: string[]) => void): Promise<FoundLease[]> {
  const { storage, options, counters } = core;
  // The ids a receipt lists as dropped by rule (wire.ts ReceiptReply), of its own lease only.
  const ruled = new Set<string>();
  const answers = await Promise.all(leases.map((lease) => askReceipt(options, lease.stream, lease.rid, (reply) => ruledIds(reply, lease.ids).forEach((id) => ruled.add(id)))));
  const [acked, release, retry] = decideLeases(leases, answers, options.now());
  const sets: [string, string][] = [];
  const deletes = release.map((lease) => `l:${lease.rid}`);
  const removed: OutboxEventRecord[] = [];
  if (acked.size) {
    for (const key of await storage!.keys('c:')) {
      const records = parseJson<OutboxEventRecord[]>(await storage!.get(key));
      if (!Array.isArray(records)) continue; // corrupt: the outbox's own read quarantines it
      const rest = records.filter((record) => !acked.has(record?.id) || !removed.push(record));
      if (!rest.length) deletes.push(key);
      else if (rest.length < records.length) sets.push([key, JSON.stringify(rest)]);
    }
  }
  // A call that throws synchronously is a rejection (stored-records.ts writeAll; sim F5).
  await writeAll(storage!, sets, deletes);
  const dropped = removed.filter((record) => ruled.has(record.id));
  counters.sent += removed.length - dropped.length;
  counters.dropped.ruled += dropped.length;
  if (dropped.length) core.report(new OutboxError('ruled', `${dropped.length} events hit a collector drop rule`, { events: dropped }));
  if (acked.size) {
    core.forget([...acked]); // this tab's own memory copies, if any
    announce([...acked]);
  }
  if (release.length) void core.rescan(); // their events are free (or gone)
  return retry;
}

/**
 * Asks the collector for a receipt of each lease a new sender found: received -> those events are
 * acknowledged and never sent again; missing -> the lease goes and they are sent at once; no
 * answer -> the lease holds them until it expires, as without receipts, while an unreachable
 * collector is asked again every {@link receiptRetryMs} (a page reloaded offline delivers soon
 * after the network is back, not a lease later). `announce` gets the ids that left (the tab
 * leader tells the other tabs, which forget their copies). Returns the stop.
 */
export function followReceipts(core: TrackerCore, found: readonly FoundLease[], announce: (ids: string[]) => void): () => void {
  let pending = [...found];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    try {
      pending = await settle(core, pending, announce);
    } catch (error) {
      pending = [];
      core.report(new OutboxError('storage', 'settling leases failed; they expire as usual', { cause: error }));
    }
    // Again in receiptRetryMs, or as soon as a request too young to trust a "missing" for is old enough.
    const now = core.options.now();
    const next = Math.min(receiptRetryMs, ...pending.map((lease) => lease.at + receiptSettleMs - now));
    if (pending.length && timer) timer = setTimeout(run, Math.max(50, next));
  };
  // A custom transport (Queues) sends elsewhere: no collector of ours to ask. Without one, the
  // tracker has an endpoint (resolveOptions requires one or the other).
  if (pending.length && core.storage && !core.options.transport) timer = setTimeout(run, 0);
  return () => {
    clearTimeout(timer);
    timer = undefined;
  };
}
