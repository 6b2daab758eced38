import { cutBatch, orderingKey } from './batch.js';
import { decideBatch, ruledIds } from './batch-outcome.js';
import { createDeque } from './deque.js';
import { createFlushWaiters } from './flush-waiters.js';
import { OutboxError, type DropReason, type OutboxEventRecord } from './errors.js';
import { createIdGenerator, errorText, randomId, serializeEvent, type TrackOptions } from './event.js';
import type { PlatformDefaults, TrackerCore } from './integration.js';
import { maxTimerDelayMs, resolveOptions, type TrackerOptions } from './options.js';
import { createOutbox, type Outbox, type StoredEvent } from './outbox.js';
import { afterFailure, allowedInFlight, healthy, rebase, type QueueBackoff } from './queue-backoff.js';
import { matchRule, mergeRules, type ActiveRule } from './rules.js';
import { createReporter } from './reporter.js';
import { createStatsCounters, snapshotStats, type TrackerStats } from './stats.js';
import type { StorageAdapter } from './storage/storage.js';
import { createHttpTransport, post, prepareRequest, readReply, redirectProblem } from './transport/http.js';
import type { SendOutcome, Transport } from './transport/transport.js';

/** An event handed to `send()`: like `track()`'s arguments, in one object. */
export interface SendEventInput extends TrackOptions {
  name: string;
  properties?: Record<string, unknown>;
}

/** How a `send()` ended. */
export interface SendResult {
  /** Events the collector acknowledged. */
  sent: number;
  /** Events dropped (invalid, rejected, too large, ruled, expired), each also reported through `onError`. */
  dropped: number;
  /** Events still queued when the timeout came; the tracker keeps retrying them. */
  pending: number;
}

/** How a `testConnection()` ended. */
export interface ConnectionTestResult {
  ok: boolean;
  /** The HTTP status, when the collector answered. */
  status?: number;
  /** Why it failed, in words. */
  reason?: string;
}

/** A tracker: see {@link createTracker}. */
export interface Tracker {
  /**
   * Queues an event. Never throws and never waits: a bad event is reported through `onError`
   * and counted in `stats().dropped`, and the queue stays intact.
   */
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): void;
  /**
   * Sends these events now, bypassing the timer but not the retry policy. Resolves when all are
   * acknowledged or dropped, or when `timeoutMs` passes (default 30 s; they stay queued).
   */
  send(events: readonly SendEventInput[], timeoutMs?: number): Promise<SendResult>;
  /** Sends everything queued; resolves true once all of it was acknowledged, false on timeout (default 30 s). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Flushes, then stops every timer and listener. Resolves with the flush result. */
  close(timeoutMs?: number): Promise<boolean>;
  /** Counters: tracked, sent, retried, queued, dropped by reason, requests, latency, bytes. */
  stats(): TrackerStats;
  /**
   * Probes the collector with an empty, flagged request that records nothing: through `stream`'s
   * endpoint and signer when given, else the tracker's. Never rejects: a failure is `ok: false`.
   */
  testConnection(stream?: string): Promise<ConnectionTestResult>;
  /** The server drop rules in force. */
  rules(): readonly ActiveRule[];
}

interface Entry extends StoredEvent {
  gone?: boolean;
  acked?: boolean;
  batch?: Batch;
  heldUntil?: number;
}

interface Batch {
  rid: string;
  stream: string;
  events: Entry[];
  attempt: number;
  inFlight: boolean;
  /** Its last request failed without an answer: it may have arrived, and its lease stands. */
  unsure?: boolean;
  /** Settles a `send()` call waiting on this batch. */
  settled?: () => void;
}

const defaultWaitMs = 30_000;
/** Stored leases are cut to at most max(2 x timeoutMs, this) from now: the unload path holds 10 s. */
const minLeaseCapMs = 10_000;
// A wait the caller gave: a number of ms up to what a timer can wait, else the default.
const waitMs = (ms: unknown): number => (typeof ms === 'number' && ms >= 0 ? Math.min(ms, maxTimerDelayMs) : defaultWaitMs);

/**
 * Creates a tracker on a given platform: its integrations and default storage. `createTracker`
 * (the browser-aware default) and the Workers entries call this; a Worker bundle that never
 * imports `platform/defaults.ts` carries no browser code.
 */
export function createTrackerOn(platform: PlatformDefaults, trackerOptions: TrackerOptions): Tracker {
  const options = resolveOptions(trackerOptions);
  const { now, maxBatchEvents, concurrency, timers } = options;
  const transport: Transport = options.transport ?? createHttpTransport(options);
  const counters = createStatsCounters();
  const deque = createDeque<Entry>({ maxEvents: options.maxQueueEvents, maxBytes: options.maxQueueBytes });
  const nextId = createIdGenerator();
  const waiting: Batch[] = [];
  const inFlight = new Set<Batch>();
  const flushWaiters = createFlushWaiters(timers);
  const ackListeners = new Set<(ids: readonly string[]) => void>();
  const stops: (() => void)[] = [];
  let rules: ActiveRule[] = [];
  let seq = 0;
  let loadedSeq = 0;
  let heldUntilMax = 0; // latest hold-back of the unload path: no scan for held events after it
  let unbatched = 0;
  let draining = false;
  let sending = true;
  let ready = false;
  let closed = false;
  let pumpQueued = false;
  let backoff: QueueBackoff = healthy;
  let nextFlushAt: number | undefined;
  let nextRescanAt: number | undefined;
  let timer: unknown;
  let timerAt = Infinity;
  let writeTimer: unknown; // the outbox's retry of a failed write
  let storage: StorageAdapter | undefined;
  let outbox: Outbox | undefined;
  let onTracked: (() => void) | undefined; // the unload path, told of events tracked while the page hides
  // Set once this tab reads the shared outbox to send it (rescan, resync: only a sender or a tab
  // taking over does). From then on its evictions are counted here, even before setSending(true)
  // follows the read: they were left in storage uncounted, or rewritten away (sim F8, F8b).
  let owner = false;

  const report = createReporter(options.onError, counters);

  function records(events: readonly Entry[]): OutboxEventRecord[] {
    return events.map((event) => JSON.parse(event.json) as OutboxEventRecord);
  }

  // Takes entries out of memory and out of their batch. Storage is updated by the caller.
  function detach(entry: Entry): void {
    const wasQueued = !entry.gone;
    deque.remove(entry);
    const batch = entry.batch;
    if (batch) {
      entry.batch = undefined;
      if (!batch.inFlight) {
        batch.events = batch.events.filter((e) => e !== entry);
        batch.rid = randomId(16); // new content, new request id
        if (!batch.events.length) {
          const index = waiting.indexOf(batch);
          if (index >= 0) waiting.splice(index, 1);
          batch.settled?.();
        }
      }
    } else if (wasQueued) unbatched--;
  }

  function drop(events: readonly Entry[], reason: DropReason, message: string, status?: number, cause?: unknown): void {
    if (!events.length) return;
    for (const entry of events) detach(entry);
    outbox?.remove(events);
    counters.dropped[reason] += events.length;
    report(new OutboxError(reason, message, { events: records(events), status, cause }));
    left(events);
    settleFlushWaiters();
  }

  // Events that left the outbox for good (acknowledged, or dropped here and counted here): other
  // tabs holding copies forget them (sim F6: a drop by the sender left them queued forever).
  function left(events: readonly Entry[]): void {
    const ids = events.map((e) => e.id);
    ackListeners.forEach((listener) => listener(ids));
  }

  const canEvict = (entry: Entry): boolean => !entry.batch?.inFlight;

  function evicted(events: readonly Entry[]): void {
    if (!events.length) return;
    // Evicted entries are already out of the deque; fix the batch and unbatched accounting.
    for (const entry of events) {
      if (entry.batch) detach(entry);
      else unbatched--;
    }
    // A tab that only appends keeps its own copy for the unload path; the sending tab owns the
    // shared outbox and its caps, so only it deletes from storage and counts the eviction. An
    // event whose write is pending or failed stays the outbox's to write (and retry): forgotten,
    // it was rewritten out of its chunk, lost without a count (sim F8 with storage faults).
    if (!sending && !owner && outbox) return outbox.forget(events.filter((e) => e.stored), true);
    outbox?.remove(events);
    counters.dropped.overflow += events.length;
    report(
      new OutboxError('overflow', `queue full: evicted ${events.length} oldest events`, {
        events: records(events),
      }),
    );
    left(events);
  }

  function enqueue(entry: Entry): void {
    const out = deque.push(entry, canEvict);
    unbatched++;
    // Appended before the eviction is reported: an onError that re-enters track() may evict this
    // very entry, and its removal must find it (it was written after being reported overflow).
    outbox?.append(entry);
    evicted(out);
    onTracked?.();
    // The flush timer runs only while enough events wait to send: fewer stay put, and a timer
    // that found too few woke every interval for nothing while the page lived (seed -1448556261).
    if (nextFlushAt === undefined && unbatched >= options.minBatchEvents) {
      nextFlushAt = now() + options.flushIntervalMs;
      armTimer();
    }
    if (unbatched >= maxBatchEvents) schedulePump();
  }

  function makeEntry(name: unknown, properties: unknown, callOptions: TrackOptions | undefined): Entry {
    // Each option read once: a getter may answer differently (or throw) on a second read.
    const id = callOptions?.id ?? nextId();
    const sourceId = callOptions?.sourceId ?? options.sourceId;
    const stream = callOptions?.stream;
    const { json, bytes } = serializeEvent(id, name, callOptions?.timestamp ?? now(), sourceId, stream, properties, options.maxEventBytes);
    // Checked once the event is built: the refusal names the event it loses (sim F12).
    if (closed) throw new OutboxError('invalid', `"${errorText(name)}" after close()`, { events: [JSON.parse(json)] });
    const entry: Entry = { id, name: name as string, sourceId: sourceId ?? '', stream: stream ?? '', json, bytes, seq: seq++ };
    const rule = rules.length ? matchRule(rules, entry, now()) : undefined;
    if (rule) throw new OutboxError('ruled', `"${entry.name}" matches a drop rule`, { events: [JSON.parse(json)] });
    return entry;
  }

  function track(name: string, properties?: Record<string, unknown>, callOptions?: TrackOptions): void {
    counters.tracked++;
    let entry: Entry;
    try {
      entry = makeEntry(name, properties, callOptions);
    } catch (error) {
      refused(error);
      return;
    }
    enqueue(entry);
  }

  // An event refused before it was queued: counted under its reason (invalid, too_large, ruled).
  function refused(error: unknown): void {
    let outboxError: OutboxError | undefined;
    try {
      if (error instanceof OutboxError) outboxError = error;
    } catch {
      // instanceof on a thrown Proxy whose getPrototypeOf trap throws
    }
    outboxError ??= new OutboxError('invalid', errorText(error), { cause: error });
    const code = outboxError.code === 'too_large' || outboxError.code === 'ruled' ? outboxError.code : 'invalid';
    counters.dropped[code]++;
    report(outboxError);
  }

  function schedulePump(): void {
    if (pumpQueued) return;
    pumpQueued = true;
    queueMicrotask(pump);
  }

  function* candidates(time: number): Generator<Entry> {
    for (const entry of deque.values()) {
      if (!entry.batch && !(entry.heldUntil! > time)) yield entry;
    }
  }

  function pump(): void {
    pumpQueued = false;
    if (closed || !sending || !ready) return;
    const time = now();
    // Re-based before it is read, not only when the timer is armed: a pause read un-based after
    // the clock went back allowed nothing, and the timer saw none to wait for (sim F9).
    backoff = rebase(backoff, time);
    // While the collector fails, the whole queue waits, then sends one probe at a time.
    const allowed = allowedInFlight(backoff, time, concurrency);
    if (inFlight.size >= allowed) return armTimer(time);
    const blocked = new Set<string>();
    const block = (batch: Batch) => batch.events.forEach((e) => blocked.add(orderingKey(e)));
    inFlight.forEach(block);
    for (const batch of [...waiting]) {
      if (inFlight.size < allowed && !batch.events.some((e) => blocked.has(orderingKey(e)))) start(batch);
      block(batch);
    }
    while (inFlight.size < allowed && unbatched > 0 && (draining || unbatched >= maxBatchEvents)) {
      const events = cutBatch(candidates(time), { maxEvents: maxBatchEvents, maxBytes: options.maxBatchBytes }, blocked);
      if (!events.length) break;
      const batch = newBatch(events);
      unbatched -= events.length;
      start(batch);
      block(batch);
    }
    if (unbatched === 0) {
      draining = false;
      nextFlushAt = undefined;
    }
    armTimer(time);
  }

  function start(batch: Batch): void {
    const index = waiting.indexOf(batch);
    if (index >= 0) waiting.splice(index, 1);
    batch.inFlight = true;
    batch.attempt++;
    inFlight.add(batch);
    counters.requests++;
    const started = now();
    // The lease tells other tabs (and the next page, after a crash) that this batch is taken.
    outbox?.lease(batch.rid, batch.events.map((e) => e.id), started + options.timeoutMs * 2, batch.stream);
    // Through a promise: a custom transport that throws synchronously must not reach the host page.
    new Promise<SendOutcome>((resolve) => resolve(transport.send(batch))).then(
      (outcome) => {
        let plain: SendOutcome;
        try {
          // A custom transport may resolve with anything (null, a Proxy whose traps throw): read
          // once as plain data; what cannot be read is a failure, never an acknowledgement.
          plain = { ...outcome, reply: JSON.parse(JSON.stringify((outcome as { reply?: unknown }).reply ?? null)) as unknown } as SendOutcome;
        } catch (error) {
          plain = { kind: 'retry', error };
        }
        settle(batch, plain, started);
      },
      (error: unknown) => settle(batch, { kind: 'retry', error }, started),
    );
  }

  function settle(batch: Batch, outcome: SendOutcome, started: number): void {
    inFlight.delete(batch);
    batch.inFlight = false;
    // A network error or a timeout does not say the request never arrived: its lease stays (until
    // the retry renews or ends it), so a next page asks the collector's receipt, not re-sends.
    batch.unsure = outcome.kind === 'retry' && outcome.status === undefined;
    if (!batch.unsure) outbox?.release(batch.rid);
    const { events } = batch;
    const time = now();
    const decision = decideBatch(outcome, events.length, batch.attempt, options.retry.limit);
    if (outcome.kind === 'retry') backoff = afterFailure(backoff, { retryAfterMs: outcome.retryAfterMs, now: time, random: options.random, backoff: options.retry, maxRetryAfterMs: options.maxRetryAfterMs });
    // Any answer but a failure to retry means the collector is up: a refusal is still an answer.
    else backoff = healthy;
    if (decision === 'ack') acknowledge(batch, outcome as Extract<SendOutcome, { kind: 'ok' }>, time - started, time);
    else {
      counters.failedRequests++;
      if (decision === 'retry') retryLater(batch, outcome, time);
      else if (decision === 'split') split(batch);
      else {
        for (const entry of events) entry.batch = undefined;
        unbatched += events.length; // detach() in drop() counts them out again
        const { status, error } = outcome as { status?: number; error?: unknown };
        drop(events, decision === 'expire' ? 'expired' : decision, `${events.length} events ${decision} (${status === undefined ? describeError(error) : `HTTP ${status}`}, attempt ${batch.attempt})`, status, error);
        batch.settled?.();
      }
    }
    settleFlushWaiters();
    pump();
  }

  // Accounts each event from the reply: the ids it lists as `ruled` were dropped by the
  // collector's rules (wire.ts BatchReply), every other one was stored.
  function acknowledge(batch: Batch, outcome: Extract<SendOutcome, { kind: 'ok' }>, latency: number, time: number): void {
    const { events } = batch;
    for (const entry of events) {
      entry.batch = undefined;
      entry.acked = true;
      deque.remove(entry);
    }
    outbox?.remove(events);
    const ids = events.map((e) => e.id);
    const ruledSet = ruledIds(outcome.reply, ids);
    const ruled = ruledSet.size ? events.filter((e) => ruledSet.has(e.id)) : [];
    counters.sent += events.length - ruled.length;
    counters.dropped.ruled += ruled.length;
    counters.acknowledgedRequests++;
    counters.bytesSent += outcome.bytes! > 0 ? outcome.bytes! : 0; // NaN from a custom transport counts nothing
    counters.lastLatencyMs = latency;
    counters.latencyTotalMs += latency;
    if (ruled.length) report(new OutboxError('ruled', `${ruled.length} events hit a collector drop rule`, { events: records(ruled) }));
    applyRules(outcome.reply, time);
    left(events);
    batch.settled?.();
  }

  function retryLater(batch: Batch, outcome: SendOutcome, time: number): void {
    const { events } = batch;
    counters.retried += events.length;
    insertWaiting(batch);
    const { status, error } = outcome as { status?: number; error?: unknown };
    // A redirect's error names its Location: the one thing the developer needs to fix it.
    const redirect = status !== undefined && status < 400 && error instanceof Error ? `: ${error.message.replace('[outbox] ', '')}` : '';
    const why = status === undefined ? describeError(error) : `HTTP ${status}${redirect}`;
    report(new OutboxError('retry', `${events.length} events failed (${why}); retry in ${Math.max(0, backoff.until - time)} ms`, { status, cause: error }));
  }

  // Halves keep the original's place in line; each gets its own request id (new content).
  function split(batch: Batch): void {
    const half = Math.ceil(batch.events.length / 2);
    const parts = [batch.events.slice(0, half), batch.events.slice(half)].map(newBatch);
    if (batch.settled) {
      let left = 2;
      parts.forEach((part) => (part.settled = () => --left || batch.settled!()));
    }
    parts.forEach(insertWaiting);
  }

  // A batch owns its events (they are in no other) and has a request id of its own.
  function newBatch(events: Entry[]): Batch {
    const batch: Batch = { rid: randomId(16), stream: events[0]!.stream, events, attempt: 0, inFlight: false };
    for (const entry of events) entry.batch = batch;
    return batch;
  }

  function insertWaiting(batch: Batch): void {
    const first = batch.events[0]!.seq;
    const index = waiting.findIndex((other) => other.events[0]!.seq > first);
    waiting.splice(index < 0 ? waiting.length : index, 0, batch);
  }

  function applyRules(reply: unknown, time: number): void {
    if (!(reply as { rules?: unknown } | undefined)?.rules) return;
    rules = mergeRules(rules, reply, time);
    outbox?.saveRules(rules);
    dropRuled(time);
  }

  function dropRuled(time: number): void {
    if (!rules.length) return;
    const matching = [...deque.values()].filter((e) => !e.batch?.inFlight && matchRule(rules, e, time));
    drop(matching, 'ruled', `${matching.length} queued events hit a drop rule`);
  }

  // `time`: the pump's own reading. Read again here, the clock could pass the pause's end that the
  // pump found not yet over: nothing started, no timer armed, the queue stalled for good (Node and
  // Firefox, about 1 in 10 runs of a collector refusing connections; delivery.test.ts).
  function armTimer(time = now()): void {
    if (closed) return;
    let at = Infinity;
    // Pauses and timer targets are wall-clock times: after the clock went back they would be far
    // away (sim F4). None may lie further than the pause or interval that set it.
    backoff = rebase(backoff, time);
    if (nextFlushAt! > time + options.flushIntervalMs) nextFlushAt = time + options.flushIntervalMs;
    const longestRescan = time + Math.max(options.flushIntervalMs, options.timeoutMs * 2, minLeaseCapMs);
    if (nextRescanAt! > longestRescan) nextRescanAt = longestRescan;
    if (backoff.until > time) at = backoff.until;
    else {
      if (unbatched > 0 && !draining && nextFlushAt !== undefined) at = nextFlushAt;
      // Batches waiting to be retried need no timer of their own: they go on the pump after the
      // queue's backoff (above) or after the settle that frees their slot or ordering key.
      if (unbatched > 0 && heldUntilMax > time) for (const entry of deque.values()) if (entry.heldUntil! > time && !entry.batch) at = Math.min(at, entry.heldUntil!);
    }
    if (nextRescanAt !== undefined) at = Math.min(at, nextRescanAt);
    if (at === timerAt) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timerAt = at;
    timer = undefined;
    if (at === Infinity) return;
    // A timer cannot wait longer than 2^31-1 ms (a longer delay fires at once, and spins): wake
    // then and re-arm. An integer delay, for simulated clocks too.
    timer = timers.setTimeout(onTimer, Math.min(Math.max(0, Math.ceil(at - time)), maxTimerDelayMs));
  }

  function onTimer(): void {
    timerAt = Infinity;
    timer = undefined;
    const time = now();
    if (nextRescanAt !== undefined && nextRescanAt <= time) {
      nextRescanAt = undefined;
      void rescan();
    }
    if (nextFlushAt !== undefined && nextFlushAt <= time) {
      if (unbatched >= options.minBatchEvents) draining = true;
      else nextFlushAt = undefined;
    }
    pump();
  }

  // Resolves flush() calls once nothing they were waiting for remains.
  function settleFlushWaiters(): void {
    // Before storage is read, an empty queue does not mean delivered: the backlog is not in yet.
    if (ready) flushWaiters.settle(deque.values());
  }

  function takeIn(events: StoredEvent[], nextLeaseExpiry: number | undefined): void {
    const known = new Set<string>();
    for (const entry of deque.values()) known.add(entry.id);
    const fresh = events.filter((e) => !known.has(e.id)) as Entry[];
    // Loaded events were queued before anything this tracker holds, so they sort below it: a
    // flush() waiting when they arrive waits for them too (the oldest gets the lowest number).
    for (let i = fresh.length - 1; i >= 0; i--) fresh[i]!.seq = --loadedSeq;
    unbatched += fresh.length;
    // Events loaded from storage (other tabs', earlier pages') go now whatever minBatchEvents
    // says: their tab's flush() waits on this one (sim F11).
    if (fresh.length) draining = true;
    // Chunks come oldest first. Those older than everything in memory go in front, newer ones
    // (other tabs' recent appends) behind, so the caps still evict the oldest events first.
    const head = deque.first()?.chunk;
    const newer = head === undefined ? -1 : fresh.findIndex((e) => e.chunk! > head);
    const cut = newer < 0 ? fresh.length : newer;
    const out = deque.prepend(fresh.slice(0, cut), canEvict);
    for (const entry of fresh.slice(cut)) out.push(...deque.push(entry, canEvict));
    evicted(out);
    if (nextLeaseExpiry !== undefined) nextRescanAt = Math.min(nextRescanAt ?? Infinity, nextLeaseExpiry);
    if (unbatched > 0 && nextFlushAt === undefined) nextFlushAt = now();
  }

  async function rescan(): Promise<void> {
    if (!outbox) return;
    owner = true;
    try {
      const { events, nextLeaseExpiry } = await outbox.load();
      takeIn(events, nextLeaseExpiry);
    } catch (error) {
      readFailed(error);
    }
    pump();
  }

  // A failed read is tried again a flush interval later, until one succeeds: nothing else may
  // nudge this tab (sim F7: a sender whose takeover read failed never read storage again).
  function readFailed(error: unknown): void {
    report(new OutboxError('storage', 'storage read failed; trying again', { cause: error }));
    // At most 10 s later: other tabs' events wait on this read, whatever flushIntervalMs says (sim F14).
    nextRescanAt = Math.min(nextRescanAt ?? Infinity, now() + Math.min(options.flushIntervalMs, minLeaseCapMs));
  }

  async function resync(): Promise<void> {
    if (!outbox) return;
    owner = true;
    // Only events already stored when the read starts: one whose write lands during the read is
    // in no listing of it, and must not be taken for gone (it would vanish from memory).
    const storedBefore = [...deque.values()].filter((entry) => entry.stored);
    try {
      const { events, nextLeaseExpiry, taken } = await outbox.load(true);
      // Only once storage was read: what memory holds of stored events and storage no longer has
      // was delivered (or is being sent) by another tab. An event whose write failed or is under
      // way (not `stored`), or that shares a chunk with leased ones, stays visible to the unload
      // path; and if the read fails, everything in memory stays and is sent.
      for (const entry of storedBefore) if (!entry.gone && !entry.batch && taken(entry)) detach(entry);
      takeIn(events, nextLeaseExpiry);
    } catch (error) {
      readFailed(error);
    }
    settleFlushWaiters();
    pump();
  }

  let markReady!: () => void;
  const storageReady = new Promise<void>((resolve) => (markReady = resolve));

  async function startStorage(): Promise<void> {
    try {
      const adapter = options.storage === false ? undefined : (options.storage ?? (await platform.storage?.(options.name)));
      if (adapter) {
        const box = createOutbox(adapter, {
          writerId: randomId(8),
          now,
          onError(error) {
            // Another tab sends only what reached storage: a tab whose writes fail sends its own.
            sending = true;
            schedulePump();
            report(new OutboxError('storage', 'storage write failed; this tab sends', { cause: error }));
          },
          onCorrupt(kind, count, lost) {
            // Unusable events are lost and counted; a bad lease or rules value loses nothing.
            // Tabs holding copies of the named ones forget them, as any drop here (sim F15).
            if (kind === 'events') (counters.dropped.corrupt += count), left(lost as Entry[]);
            report(new OutboxError(kind === 'events' ? 'corrupt' : 'storage', `${count} unusable stored ${kind} deleted`, { events: lost as OutboxEventRecord[] }));
          },
          chunkEvents: maxBatchEvents,
          // A request times out after timeoutMs, so a lease longer than two of those (or than the
          // unload path's 10 s hold) is a clock that went back, or a forged value.
          maxLeaseMs: Math.max(options.timeoutMs * 2, minLeaseCapMs),
          // A failed write is written again after a backoff, on this tracker's timers: close() stops it.
          retry(delayMs, write) {
            timers.clearTimeout(writeTimer);
            if (!closed) writeTimer = timers.setTimeout(write, delayMs);
          },
        });
        // Read before anything is written: storage that cannot even read is given up, reported once.
        rules = mergeRules(await box.loadRules(), undefined, now());
        // Events tracked before the saved rules were read (a page's first events) obey them too.
        dropRuled(now());
        storage = adapter;
        outbox = box;
        // Events tracked before storage was ready are written now (they were only in memory).
        for (const entry of deque.values()) outbox.append(entry);
        // A tab that only appends leaves the shared outbox to the sender (it loads it when it becomes one).
        if (sending) await rescan();
      }
    } catch (error) {
      report(new OutboxError('storage', 'storage is unusable; keeping events in memory', { cause: error }));
      storage = undefined;
      outbox = undefined;
    }
    ready = true;
    markReady();
    pump();
    settleFlushWaiters();
  }

  function flush(timeoutMs?: number): Promise<boolean> {
    if (closed && !deque.size) return Promise.resolve(true);
    draining = true;
    const done = flushWaiters.wait(seq, waitMs(timeoutMs));
    schedulePump();
    settleFlushWaiters();
    return done.then(async (delivered) => {
      await outbox?.idle();
      return delivered;
    });
  }

  async function send(inputs: readonly SendEventInput[], timeoutMs?: number): Promise<SendResult> {
    let list: unknown[];
    try {
      list = Array.from(inputs as Iterable<unknown>);
    } catch (error) {
      report(new OutboxError('invalid', 'send() needs an array', { cause: error }));
      return { sent: 0, dropped: 0, pending: 0 };
    }
    const entries: Entry[] = [];
    for (const input of list) {
      counters.tracked++;
      try {
        const event = input as SendEventInput | undefined;
        entries.push(makeEntry(event?.name, event?.properties, event));
      } catch (error) {
        refused(error);
      }
    }
    // Queued first (counted unbatched), then cut into batches from what the caps kept: an eviction,
    // and an onError that re-enters track(), must never meet a batch not yet in `waiting`.
    for (const entry of entries) {
      unbatched++;
      const out = deque.push(entry, canEvict);
      outbox?.append(entry);
      evicted(out);
    }
    const kept = entries.filter((e) => !e.gone && !e.batch);
    unbatched -= kept.length;
    let open = 0;
    const settledAll = new Promise<void>((resolve) => {
      // Cut by the batch limits, ignoring the timer and the thresholds: send() means now.
      for (const stream of new Set(kept.map((e) => e.stream))) {
        let rest = kept.filter((e) => e.stream === stream);
        while (rest.length) {
          const events = cutBatch(rest, { maxEvents: maxBatchEvents, maxBytes: options.maxBatchBytes }, new Set<string>());
          rest = rest.slice(events.length);
          const batch = newBatch(events);
          open++;
          batch.settled = () => --open || resolve();
          insertWaiting(batch);
        }
      }
      if (!open) resolve();
    });
    schedulePump();
    let timeout: unknown;
    await Promise.race([settledAll, new Promise((resolve) => (timeout = timers.setTimeout(() => resolve(undefined), waitMs(timeoutMs))))]);
    timers.clearTimeout(timeout);
    const sent = entries.filter((e) => e.acked).length;
    const pending = entries.filter((e) => !e.gone).length;
    return { sent, dropped: list.length - sent - pending, pending };
  }

  async function testConnection(stream = ''): Promise<ConnectionTestResult> {
    const endpoint = options.streams[stream]?.endpoint ?? options.endpoint;
    if (!endpoint) return { ok: false, reason: 'no endpoint: a custom transport delivers' };
    let response: Response | Error;
    try {
      const { url, body } = await prepareRequest(options, { rid: randomId(16), stream: String(stream), events: [] }, true);
      response = await post(url, body, options);
    } catch (error) {
      response = error as Error; // a throwing signer
    }
    if (!(response instanceof Response)) return { ok: false, reason: describeError(response) };
    const redirect = redirectProblem(response);
    if (redirect) return { ok: false, status: response.status, reason: redirect };
    if (response.ok) return { ok: true, status: response.status };
    const reply = await readReply(response, 200); // readReply never rejects
    return { ok: false, status: response.status, reason: `HTTP ${response.status}${reply === undefined ? '' : `: ${JSON.stringify(reply).slice(0, 200)}`}` };
  }

  async function close(timeoutMs?: number): Promise<boolean> {
    // Events tracked while close() flushes (a streaming response) are flushed too, within the
    // same time; whatever remains makes it resolve false, so the caller can spill it.
    const deadline = now() + waitMs(timeoutMs);
    let delivered = await flush(waitMs(timeoutMs));
    while (delivered && deque.size > 0 && now() < deadline) delivered = await flush(deadline - now());
    delivered &&= deque.size === 0;
    closed = true;
    if (timer !== undefined) timers.clearTimeout(timer);
    timers.clearTimeout(writeTimer);
    timer = undefined;
    stops.splice(0).forEach((stop) => stop());
    await outbox?.idle();
    return delivered;
  }

  const core: TrackerCore = {
    options,
    get storage() {
      return storage;
    },
    ready: storageReady,
    counters,
    pending(visit) {
      // A batch whose request may have arrived counts as in flight: the unload path leaves its
      // stored events to that request's receipt (issue 12).
      for (const event of deque.values()) if (visit(event, !!(event.batch?.inFlight || event.batch?.unsure), !!event.stored)) return;
    },
    holdBack(events, until, rid) {
      for (const entry of events as Entry[]) entry.heldUntil = until;
      heldUntilMax = Math.max(heldUntilMax, until);
      counters.unloadSent += events.length;
      outbox?.lease(rid, events.map((e) => e.id), until, events[0]?.stream);
      armTimer();
    },
    acknowledge(events, ruledSet) {
      const done = (events as Entry[]).filter((entry) => !entry.gone && !entry.batch?.inFlight);
      for (const entry of done) {
        detach(entry);
        entry.acked = true;
      }
      outbox?.remove(done);
      // As for a batch's 2xx: what the collector says it dropped by rule is counted and reported.
      const ruled = ruledSet?.size ? done.filter((entry) => ruledSet.has(entry.id)) : [];
      counters.sent += done.length - ruled.length;
      counters.dropped.ruled += ruled.length;
      if (ruled.length) report(new OutboxError('ruled', `${ruled.length} events hit a collector drop rule`, { events: records(ruled) }));
      if (done.length) ackListeners.forEach((listener) => listener(done.map((e) => e.id)));
      settleFlushWaiters();
    },
    onTracked(listener) {
      onTracked = listener;
      return () => (onTracked = undefined);
    },
    wake(resetBackoff) {
      if (resetBackoff) backoff = healthy;
      draining = true;
      schedulePump();
    },
    setSending(value) {
      sending = value;
      schedulePump();
    },
    rescan,
    resync,
    forget(ids) {
      const set = new Set(ids);
      const gone = [...deque.values()].filter((entry) => set.has(entry.id) && !entry.batch?.inFlight);
      for (const entry of gone) {
        detach(entry);
        entry.acked = true; // by another tab: a send() waiting on it counts it as sent
      }
      outbox?.forget(gone);
      settleFlushWaiters();
    },
    onAcknowledged(listener) {
      ackListeners.add(listener);
      return () => ackListeners.delete(listener);
    },
    report,
  };

  if (options.clientStatsIntervalMs > 0) {
    let statsTimer: unknown;
    const tick = () => {
      statsTimer = timers.setTimeout(tick, options.clientStatsIntervalMs);
      track('outbox.client_stats', clientStats());
    };
    statsTimer = timers.setTimeout(tick, options.clientStatsIntervalMs);
    stops.push(() => timers.clearTimeout(statsTimer));
  }

  // The counters, plus the settings they help tune (Samsara's planned send_client_stats).
  function clientStats(): Record<string, unknown> {
    return { ...stats(), intervalMs: options.clientStatsIntervalMs, maxQueueEvents: options.maxQueueEvents, flushIntervalMs: options.flushIntervalMs };
  }

  function stats(): TrackerStats {
    return snapshotStats(counters, deque.size, deque.bytes, [...inFlight].reduce((n, b) => n + b.events.length, 0));
  }

  for (const integration of platform.integrations) {
    const stop = integration(core);
    if (stop) stops.push(stop);
  }
  void startStorage();

  return { track, send, flush, close, stats, testConnection, rules: () => rules.filter((r) => r.until > now()) };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
