import { decideSettle, ruledEvents } from '../batch-outcome.js';
import { OutboxError, type DropReason, type OutboxEventRecord } from '../errors.js';
import { errorText } from '../event.js';
import type { ResolvedOptions } from '../options.js';
import type { Outbox } from '../outbox.js';
import type { StatsCounters } from '../stats.js';
import type { SendOutcome, Transport } from '../transport/transport.js';
import type { Batch, Entry, QueueModel } from './queue-model.js';
import type { Scheduler } from './scheduler.js';

/**
 * Delivery (see {@link createDelivery}): starts requests and applies what their outcomes mean
 * (batch-outcome.ts `decideSettle`), and is where events leave memory, each way with one verb:
 * acknowledged, dropped (with a reason), evicted.
 */
export interface Delivery {
  startBatch(batch: Batch): void;
  /** Drops events for `reason`: out of memory and storage, counted and reported. */
  dropEvents(events: readonly Entry[], reason: DropReason, message: string, status?: number, cause?: unknown): void;
  /** Events the queue caps pushed out (already out of memory): counted and reported by a sender. */
  evicted(events: readonly Entry[]): void;
  /** Events the collector has (`ruled`: those it dropped by rule): out of storage, counted, reported. */
  acknowledged(events: readonly Entry[], ruled: readonly Entry[]): void;
}

/**
 * What delivery reads of the storage link (engine/storage-link.ts, which calls delivery: declared
 * here so that the import goes one way): its outbox once attached, and whether this tab owns it.
 */
export interface OutboxLink {
  readonly linkedOutbox: Outbox | undefined;
  /** Whether this tab read the shared outbox to send it: from then on its evictions are its to count. */
  readonly owner: boolean;
}

/** Reads serialized events back as records, for an error's `events`. */
export const records = (events: readonly Entry[]): OutboxEventRecord[] => events.map((event) => JSON.parse(event.json) as OutboxEventRecord);

/**
 * Creates {@link Delivery}: `options` give the clock, the request timeout (a lease lasts two) and
 * the retry policy; `link` is the storage link (its outbox once attached, and whether this tab owns
 * it); `applyRules` takes each acknowledged reply's drop rules; `onLeft` is told of events
 * that left the outbox for good; `settleWaiters` resolves the flush() calls nothing keeps waiting.
 */
export function createDelivery(
  options: ResolvedOptions,
  transport: Transport,
  queueModel: QueueModel,
  queueScheduler: Scheduler,
  counters: StatsCounters,
  report: (error: OutboxError) => void,
  link: () => OutboxLink,
  applyRules: (reply: unknown, now: number) => void,
  onLeft: (events: readonly Entry[]) => void,
  settleWaiters: () => void,
): Delivery {
  const { now } = options;
  const outbox = () => link().linkedOutbox;

  function startBatch(batch: Batch): void {
    queueModel.fly(batch);
    counters.requests++;
    const started = now();
    // The lease tells other tabs (and the next page, after a crash) that this batch is taken.
    outbox()?.lease(batch.rid, batch.events, started + options.timeoutMs * 2);
    // Through a promise: a custom transport that throws synchronously must not reach the host page.
    const failed = (error: unknown) => landed(batch, { kind: 'retry', error }, started);
    new Promise<SendOutcome>((resolve) => resolve(transport.send(batch))).then((outcome) => {
      try {
        // A custom transport may resolve with anything (null, a Proxy whose traps throw): read
        // once as plain data; what cannot be read is a failure, never an acknowledgement.
        outcome = { ...outcome, reply: JSON.parse(JSON.stringify((outcome as { reply?: unknown }).reply ?? null)) as unknown } as SendOutcome;
      } catch (error) {
        return failed(error);
      }
      landed(batch, outcome, started);
    }, failed);
  }

  function landed(batch: Batch, outcome: SendOutcome, started: number): void {
    queueModel.land(batch);
    const time = now();
    const { events, attempt } = batch;
    const [decision, backoff, keepLease] = decideSettle(outcome, events.length, attempt, queueScheduler.backoff, time, options);
    batch.unsure = keepLease;
    if (!keepLease) outbox()?.release(batch.rid);
    queueScheduler.backoff = backoff;
    if (decision === 'ack') {
      // Accounts each event from the reply: the ids it lists as `ruled` were dropped by the
      // collector's rules (wire.ts BatchReply), every other one was stored.
      const { reply, bytes } = outcome as Extract<SendOutcome, { kind: 'ok' }>;
      const latency = time - started;
      queueModel.retire(batch);
      for (const entry of events) entry.acked = true;
      counters.acknowledgedRequests++;
      counters.bytesSent += bytes! > 0 ? bytes! : 0; // NaN from a custom transport counts nothing
      counters.lastLatencyMs = latency;
      counters.latencyTotalMs += latency;
      acknowledged(events, ruledEvents(reply, events));
      applyRules(reply, time);
      batch.settled?.();
    } else {
      counters.failedRequests++;
      const { status, error } = outcome as { status?: number; error?: unknown };
      const why = status === undefined ? errorText(error) : `HTTP ${status}`;
      if (decision === 'retry') {
        counters.retried += events.length;
        queueModel.enqueueBatch(batch);
        // A redirect's error names its Location: the one thing the developer needs to fix it.
        const redirect = status! < 400 && error instanceof Error ? `: ${error.message.replace('[outbox] ', '')}` : '';
        report(new OutboxError('retry', `${events.length} events failed (${why}${redirect}); retry in ${Math.max(0, backoff.until - time)} ms`, { status, cause: error }));
      } else if (decision === 'split') {
        // Halves keep the original's place in line; each gets its own request id (new content).
        const half = Math.ceil(events.length / 2);
        const parts = [events.slice(0, half), events.slice(half)].map(queueModel.newBatch);
        if (batch.settled) {
          let open = 2;
          parts.forEach((part) => (part.settled = () => --open || batch.settled!()));
        }
        parts.forEach(queueModel.enqueueBatch);
      } else {
        queueModel.retire(batch);
        dropEvents(events, decision === 'expire' ? 'expired' : decision, `${events.length} events ${decision} (${why}, attempt ${attempt})`, status, error);
        batch.settled?.();
      }
    }
    settleWaiters();
    queueScheduler.pump();
  }

  // Every way out: out of storage, forgotten by other tabs; `counted` (all of them, or a reply's
  // ruled ones, maybe none) are counted by reason and reported.
  function left(events: readonly Entry[], counted: readonly Entry[], reason: DropReason, message: string, status?: number, cause?: unknown): void {
    outbox()?.remove(events);
    counters.dropped[reason] += counted.length;
    if (counted.length) report(new OutboxError(reason, message, { events: records(counted), status, cause }));
    if (events.length) onLeft(events);
  }

  function acknowledged(events: readonly Entry[], ruled: readonly Entry[]): void {
    counters.sent += events.length - ruled.length;
    left(events, ruled, 'ruled', `${ruled.length} events hit a collector drop rule`);
  }

  function dropEvents(events: readonly Entry[], reason: DropReason, message: string, status?: number, cause?: unknown): void {
    if (!events.length) return;
    events.forEach(queueModel.unlink);
    left(events, events, reason, message, status, cause);
    settleWaiters();
  }

  function evicted(events: readonly Entry[]): void {
    if (!events.length) return;
    const box = outbox();
    // A tab that only appends keeps its own copy for the unload path; the sending tab owns the
    // shared outbox and its caps, so only it deletes from storage and counts the eviction. An
    // event whose write is pending or failed stays the outbox's to write (and retry): forgotten,
    // it was rewritten out of its chunk, lost without a count (sim F8 with storage faults).
    if (!queueScheduler.isSending && !link().owner && box) return box.forget(events.filter((e) => e.stored), true);
    left(events, events, 'overflow', `queue full: evicted ${events.length} oldest events`);
  }

  return { startBatch, dropEvents, evicted, acknowledged };
}
