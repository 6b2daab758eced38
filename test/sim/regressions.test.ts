// One fixed history per hole of issue 9 (and per hole the random histories found since), run
// through the same simulation and invariant checks as test/sim/simulation.test.ts. 38 of the first
// 46 failed on main (6f27bff); the 8 that passed there guard what main already did (rules with no
// field or non-string fields, four Retry-After forms) or need the `fetch` seam to silence a crashed
// page (the malformed lease and the torn chunk: main's crashed page kept sending through the global
// fetch). The last group came out of the simulation itself (docs/durability.md, "How the
// simulation checks it"; /work/notes/sim-findings.md F1-F8).
import { describe, expect, it } from 'vitest';
import type { EventSpec, History, SimConfig, Step } from './histories.js';
import { runHistory } from './run-history.js';
import type { Reply } from './sim-network.js';

const config: SimConfig = {
  storage: false,
  tabs: 1,
  maxBatchEvents: 20,
  maxQueueEvents: 1000,
  minBatchEvents: 1,
  flushIntervalMs: 1000,
  timeoutMs: 10_000,
  retry: { limit: Infinity, baseMs: 1000, maxDelayMs: 30_000 },
  concurrency: 2,
  compression: 'gzip',
  reentrant: false,
  latencyMs: 20,
  storageLatencyMs: 5,
  storageApply: true,
  coordinate: false,
  failRate: 0,
  loseRate: 0,
  seed: 9,
};

const valid: EventSpec = { name: 'view', props: 'flat', id: 'unique', source: 'one', stream: 'none', ts: 'now', pick: 1 };
const track = (event: Partial<EventSpec> = {}, tab = 0): Step => ({ t: 'track', tab, event: { ...valid, ...event } });
const advance = (ms: number): Step => ({ t: 'advance', ms });

function history(steps: Step[], script: Reply[] = [], overrides: Partial<SimConfig> = {}): History {
  return { config: { ...config, ...overrides }, script, steps };
}

async function holds(h: History): Promise<void> {
  const { violations } = await runHistory(h);
  expect(violations).toEqual([]);
}

describe('silent loss: counted as sent, never stored', () => {
  for (const status of [301, 302, 303, 307, 308] as const) {
    it(`a ${status} from the endpoint is a retried failure, not an acknowledgement`, () =>
      holds(history([track(), track({ name: 'click' }), advance(2000)], [{ kind: 'redirect', status }])));
  }

  it('events the collector ruled under a rule the tracker declines (ttlMs 0) are reported ruled, not counted sent', () =>
    holds(history([track({ name: 'ruled' }), track(), advance(2000)], [{ kind: 'ok', body: 'reply', rules: 'ttlZero' }])));

  it('ruled ids in a reply with no rules at all are reported ruled', () => holds(history([track({ name: 'ruled' }), track(), advance(2000)])));
});

describe('stored state is untrusted', () => {
  const stored = { storage: true };
  const reload: Step = { t: 'crash', tab: 0, reload: true };

  it('a malformed lease ({until: 1e16, ids: 1}) blocks no later load', () =>
    holds(history([track(), advance(10), { t: 'corrupt', what: 'leaseMalformed', pick: 0 }, reload, advance(2000)], [{ kind: 'status', status: 503 }], stored)));

  it('a lease far in the future (the clock went back) neither holds its events for years nor spins the rescan timer', () =>
    holds(history([track(), advance(10), { t: 'corrupt', what: 'leaseFuture', pick: 0 }, reload, advance(120_000)], [{ kind: 'status', status: 503 }], stored)));

  it('stored rules [{"until": 1e300}] drop nothing', () =>
    holds(history([{ t: 'corrupt', what: 'rulesForever', pick: 0 }, reload, track(), track({ name: 'click' }), advance(2000)], [], stored)));

  it('a stored record missing its timestamp is quarantined and does not poison its batch', () =>
    holds(
      history(
        [track(), track({ name: 'click' }), track({ name: 'paid' }), advance(10), { t: 'corrupt', what: 'recordMissingTimestamp', pick: 1 }, reload, advance(5000)],
        [{ kind: 'status', status: 503 }],
        stored,
      ),
    ));

  it('a torn chunk is reported, never fatal to the chunks after it', () =>
    holds(history([track(), advance(10), track({ name: 'click' }), advance(10), { t: 'corrupt', what: 'chunkGarbage', pick: 0 }, reload, advance(5000)], [{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }], stored)));

  it('caps hold on load: a reload onto more stored events than maxQueueEvents keeps the cap', () =>
    holds(
      history(
        [{ t: 'burst', tab: 0, count: 300, sources: 3 }, advance(50), reload, advance(50)],
        Array.from({ length: 10 }, () => ({ kind: 'status', status: 503 }) as Reply),
        { ...stored, maxQueueEvents: 100, retry: { limit: Infinity, baseMs: 60_000, maxDelayMs: 300_000 } },
      ),
    ));

  it('a storage adapter that throws synchronously now and then causes no unhandled rejection and loses nothing', () =>
    holds(history([{ t: 'faults', failRate: 0.3, loseRate: 0 }, ...Array.from({ length: 20 }, (_, i) => [track({ pick: i }), advance(300)]).flat(), reload, advance(3000)], [{ kind: 'status', status: 503 }], { ...stored, storageApply: false })));
});

describe('one bad event never takes its batch', () => {
  for (const props of ['date', 'url', 'stringObject', 'toJSONString', 'deep'] as const) {
    it(`properties ${props} are refused at track(); the valid neighbours are stored`, () =>
      holds(history([track(), track({ props }), track({ name: 'click' }), advance(2000)])));
  }

  it('an id longer than wire.ts allows is refused at track()', () => holds(history([track(), track({ id: 'long' }), track(), advance(2000)])));

  it('a 400 for a batch splits it down to the culprit; only it is rejected', () =>
    holds(history([track(), track({ name: 'click' }), track({ name: 'paid' }), advance(2000)], [{ kind: 'status', status: 400 }, { kind: 'status', status: 400 }])));
});

describe('a hostile or broken collector', () => {
  it('an endless 2xx body is cancelled after maxReplyBytes, not read', () => holds(history([track(), advance(2000)], [{ kind: 'ok', body: 'endless' }])));

  for (const rules of ['emptyStream', 'emptyName', 'noField', 'many', 'huge', 'nonString'] as const) {
    it(`hostile rules (${rules}) are bounded and validated: nothing is dropped that the collector did not mean`, () =>
      holds(history([track(), advance(2000), track(), track({ name: 'click', stream: 'ui' }), advance(2000)], [{ kind: 'ok', body: 'reply', rules }])));
  }

  it('a 503 without Retry-After for events of 1,000 sources: one probe at a time', () =>
    holds(history([{ t: 'burst', tab: 0, count: 300, sources: 1000 }, advance(10_000)], Array.from({ length: 30 }, () => ({ kind: 'status', status: 503 }) as Reply), { maxBatchEvents: 1, concurrency: 3 })));

  it('Retry-After longer than retry.maxDelayMs is honoured (two settings)', () =>
    holds(history([track(), advance(5000)], [{ kind: 'status', status: 429, retryAfter: '2' }], { retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 } })));

  for (const retryAfter of ['+30', 'soon', '99999999999', '-5']) {
    it(`Retry-After ${JSON.stringify(retryAfter)} (date, garbage, huge, negative) neither stalls nor hammers`, () =>
      holds(history([track(), advance(60_000)], [{ kind: 'status', status: 503, retryAfter }])));
  }

  // The simulator's "+N" was sent as the literal "+N" (the year N to Date.parse); "date+N" is the
  // HTTP-date N s ahead, and the protocol check holds the tracker to it as to a delta in seconds.
  it('Retry-After as an HTTP-date 30 s ahead is honoured, with retry.maxDelayMs at 100 ms', () =>
    holds(history([track(), advance(60_000)], [{ kind: 'status', status: 503, retryAfter: 'date+30' }], { retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 } })));
});

describe('resource bounds', () => {
  it('onError that tracks while the queue is full is bounded and counted', () =>
    holds(history([{ t: 'burst', tab: 0, count: 50, sources: 1 }, advance(100)], [], { reentrant: true, maxQueueEvents: 10 })));

  it('flushIntervalMs 3e9 does not make the timer fire every millisecond', () => holds(history([track(), advance(60_000)], [], { flushIntervalMs: 3e9 })));

  it('timeoutMs Infinity is refused or clamped, and does not abort every request', () => holds(history([track(), advance(5000)], [], { timeoutMs: Infinity })));

  it('a getter that throws a Proxy whose traps throw never escapes track(); send() leaves no NaN counter', () =>
    holds(history([track({ props: 'throwsProxy' }), { t: 'send', tab: 0, events: [{ ...valid, props: 'throwsProxy' }, { ...valid, name: 'proxy' }, valid] }, advance(2000)])));
});

describe('holes the simulation found', () => {
  // Found at harden f4d05c1 by fast-check (seed -786065978), shrunk to this: a send() whose events
  // make two batches (two streams) while the queue is full of events in flight. The first batch's
  // event evicts itself before its batch is waiting; the second batch's event is never queued:
  // tracked 13 = sent 9 + dropped 3 + queued 0, and e11 is neither sent nor reported (F1).
  it('send() of two streams into a queue full of events in flight: every event sent, reported or held', () =>
    holds(
      history(
        [
          { t: 'burst', tab: 0, count: 9, sources: 1 },
          track({ props: 'none', source: 'none' }),
          advance(100),
          { t: 'send', tab: 0, events: [{ ...valid, props: 'none', source: 'none' }, { ...valid, props: 'none', source: 'none', stream: 'ui' }] },
          track({ props: 'none', source: 'none' }),
        ],
        [],
        { maxQueueEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, concurrency: 1, latencyMs: 1, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 } },
      ),
    ));

  // Found at harden f4d05c1: send() under a full queue whose onError tracks again. Every event
  // but the first of the send() vanished from the counters (tracked 2657 = sent 9 + dropped 2644
  // + queued 0, 4 short); see /work/notes/sim-findings.md, F1.
  // Found at harden 4d3d040 (F4): pauses are kept on the wall clock (`now`), so the clock going
  // back a day during a 10 s Retry-After pause, or a 1 s backoff, stalled delivery for that day.
  for (const retryAfter of ['10', undefined]) {
    it(`the wall clock going back a day during a ${retryAfter ? 'Retry-After pause' : 'backoff'} does not stall delivery for a day`, () =>
      holds(history([track(), advance(1100), { t: 'jump', ms: -86_400_000 }, advance(60_000)], [retryAfter ? { kind: 'status', status: 503, retryAfter } : { kind: 'status', status: 503 }])));
  }

  // Found at harden 63f5d69 (F6): with tab coordination, the sending tab dropped a non-sending
  // tab's event under a collector rule; only acknowledgements go back over the channel, so the
  // tab that tracked it kept it forever: its flush() never resolved true.
  it('an event the sending tab drops (ruled) leaves the tab that tracked it: its flush() resolves true', () =>
    holds(
      history(
        [{ t: 'send', tab: 1, events: [{ ...valid, stream: 'ui' }, { ...valid, name: 'ruled', source: 'many' }] }, advance(35_000)],
        [{ kind: 'ok', body: 'reply', rules: 'genuine' }],
        { storage: true, tabs: 3, coordinate: true, maxBatchEvents: 5, concurrency: 1, latencyMs: 1, storageLatencyMs: 0 },
      ),
    ));

  // Found at harden 63f5d69 (F7), the "read failure at takeover" in a new form: the tab
  // that became the sender failed its one read of storage (seeded 5 % fault rate) and never read
  // again, so 75 events another tab had stored were never sent (requests 0, flush() false).
  // The fault falls on the takeover read for this seed; if storage calls change, re-find it with
  // a seed that does (the random histories reach it).
  it('a sender whose takeover read fails reads storage again and sends what other tabs stored', () =>
    holds(
      history(
        [{ t: 'burst', tab: 3, count: 75, sources: 3 }, { t: 'faults', failRate: 0.05, loseRate: 0 }, { t: 'open' }, advance(1996)],
        [],
        { storage: true, tabs: 3, coordinate: true, concurrency: 1, latencyMs: 1, retry: { limit: 0, baseMs: 1000, maxDelayMs: 100 }, seed: 2147483640 },
      ),
    ));

  // Found at harden 63f5d69 (F8): with tab coordination, a tab that tracks past maxQueueEvents
  // while it becomes the sender lost e178 without a trace (never sent, stored or reported); its
  // counters balanced only because they counted the other tab's event as sent.
  // F8's family, as fast-check shrank it at harden eaf6cab (seed 2059698875): one coordinated tab
  // tracks 11 events into a cap of 10 before it holds the lock; the evicted e0 stays in storage,
  // never sent, never reported, whatever the reloads.
  it('an event evicted before the tab becomes the sender is sent or reported, not left in storage', () =>
    holds(
      history(
        [advance(1), { t: 'burst', tab: 0, count: 10, sources: 1 }, track({ props: 'none', source: 'none' })],
        [],
        { storage: true, tabs: 1, coordinate: true, maxBatchEvents: 1, maxQueueEvents: 10, flushIntervalMs: 3e9, timeoutMs: 1000, concurrency: 1, latencyMs: 1, storageLatencyMs: 0, storageApply: false, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, seed: 0 },
      ),
    ));

  // The same (F7), as fast-check shrank it (seed 188695037): two coordinated tabs, one event, a 5 %
  // fault rate on an adapter without apply(); the event is never sent, whatever the reloads.
  it('one event, two coordinated tabs, a flaky adapter: the event is sent once storage is healthy', () =>
    holds(
      history(
        [{ t: 'burst', tab: 0, count: 1, sources: 1 }, advance(79)],
        [],
        { storage: true, tabs: 2, coordinate: true, maxBatchEvents: 1, maxQueueEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, concurrency: 1, latencyMs: 1, storageLatencyMs: 100, storageApply: false, failRate: 0.05, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, seed: 14 },
      ),
    ));

  it('tracking past the cap while becoming the sender loses nothing silently', () =>
    holds(
      history(
        [track({ source: 'many', pick: 350 }, 1), { t: 'burst', tab: 2, count: 277, sources: 1 }, advance(1779)],
        [],
        { storage: true, tabs: 2, coordinate: true, maxBatchEvents: 5, maxQueueEvents: 100, flushIntervalMs: 5000, timeoutMs: 1000, latencyMs: 1, storageLatencyMs: 100, retry: { limit: 3, baseMs: 1000, maxDelayMs: 30_000 }, seed: 558190430 },
      ),
    ));

  // Found at harden d530d13 (F9), after the F4 fix: one event expires on a 502 (retry.limit 0),
  // 156 more overflow a cap of 10, the wall clock goes back 15 h; the ten left waited 2^31-1 ms
  // (24.8 days, the longest timer) although the network was healthy.
  it('a clock jump back after an expiry and an overflow does not park the queue for 24.8 days', () =>
    holds(
      history(
        [track({ name: 'paid', props: 'nested', source: 'none', stream: 'ui' }), advance(22_601), { t: 'burst', tab: 0, count: 156, sources: 1000 }, { t: 'jump', ms: -54_289_856 }],
        [{ kind: 'status', status: 502, retryAfter: '0' }],
        { storage: true, maxQueueEvents: 10, concurrency: 3, latencyMs: 500, compression: 'none', retry: { limit: 0, baseMs: 10, maxDelayMs: 300_000 }, seed: -4 },
      ),
    ));

  // Found at harden d530d13 (F10): with 5 % storage faults, deletes of acknowledged chunks failed,
  // and the re-read that now follows a failed read loaded those events again: re-sent (fine, the
  // collector drops repeats) but counted again: tracked 238 != sent 218 + dropped 36 + queued 0,
  // and two events reported `ruled` twice.
  it('events acknowledged once are counted once, even when their deletion failed and storage is read again', () =>
    holds(
      history(
        [{ t: 'burst', tab: 0, count: 238, sources: 3 }, advance(1096)],
        [],
        { storage: true, maxBatchEvents: 1, concurrency: 1, timeoutMs: 1000, latencyMs: 1, compression: 'none', failRate: 0.05, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 300_000 }, seed: 852185651 },
      ),
    ));

  // Found at harden eaf6cab (F11): with minBatchEvents 10, a tab that is not the sender tracks one
  // event. The sender loads it but its timer waits for 10; the tracking tab's flush() cannot make
  // the sender drain, so it never resolves true, on a healthy network, with no fault at all.
  it('flush() in a tab that is not the sender resolves true although minBatchEvents is not reached', () =>
    holds(
      history(
        [track({ props: 'none', source: 'many', stream: 'ui' }, 2)],
        [],
        { storage: true, tabs: 3, coordinate: true, minBatchEvents: 10, maxBatchEvents: 100, flushIntervalMs: 5000, timeoutMs: 1000, concurrency: 1, latencyMs: 1, storageLatencyMs: 100, seed: 1111625803 },
      ),
    ));

  // F9's family (harden eaf6cab): a send() whose request times out, the clock going back 12.5 h
  // during the wait; delivery then took 12.4 h on a healthy network.
  it('a clock jump back while a send() request times out does not stall it for the jump', () =>
    holds(
      history(
        [
          { t: 'send', tab: 0, events: [{ ...valid, name: 'ruled', props: 'none', source: 'none', stream: 'ui' }, { ...valid, name: 'ruled', props: 'unicode', source: 'none', stream: 'ui' }, { ...valid, name: 'click', props: 'bigint', source: 'none' }] },
          advance(1229),
          { t: 'jump', ms: -44_851_557 },
          advance(105_455),
        ],
        [{ kind: 'timeout' }, { kind: 'redirect', status: 303 }],
        { storage: true, maxBatchEvents: 1, maxQueueEvents: 10, flushIntervalMs: 5000, concurrency: 3, seed: -1571050394 },
      ),
    ));

  it('send() while the queue is full and onError re-enters track(): counters still balance', () =>
    holds(
      history(
        [
          { t: 'burst', tab: 0, count: 152, sources: 1000 },
          { t: 'send', tab: 0, events: [valid, { ...valid, name: 'paid' }, { ...valid, name: 'click' }, { ...valid, id: 'none' }, { ...valid, props: 'nested' }] },
        ],
        [],
        { reentrant: true, maxQueueEvents: 10, maxBatchEvents: 1, concurrency: 3, timeoutMs: 1000 },
      ),
    ));

  // The replays of docs/durability.md's open findings (random seeds, sim2). One coordinated tab, a
  // flaky adapter without apply(): 9 events evicted before the tab held the sender lock stayed in
  // storage, never sent or reported. Its takeover read (a full read) failed, and the retry was a
  // rescan, which skips the chunks the tab wrote itself (F13; seed -1223107789).
  const flaky: Partial<SimConfig> = { storage: true, coordinate: true, maxBatchEvents: 1, maxQueueEvents: 10, timeoutMs: 1000, concurrency: 1, latencyMs: 1, storageApply: false, failRate: 0.05, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 } };
  it('a full read that failed is retried as a full read: events evicted before the takeover are sent or reported', () =>
    holds(history([advance(1), { t: 'burst', tab: 0, count: 19, sources: 1 }, advance(6), track({ props: 'none', source: 'none' })], [], { ...flaky, tabs: 1, flushIntervalMs: 100, storageLatencyMs: 0, seed: 0 })));

  // F14 (seed -1548206897): flushIntervalMs 3e9; the sender's reads of another tab's chunks failed,
  // and each failed read was retried a flush interval (35 days) later: the crashed tab's two events
  // waited in storage through every reload (the live sender keeps the lock).
  it('a failed read is retried within 10 s whatever flushIntervalMs says', () =>
    holds(
      history(
        [
          { t: 'send', tab: 1, events: [{ ...valid, props: 'none', source: 'none' }, { ...valid, props: 'none', source: 'none' }, { ...valid, props: 'cycle', source: 'none' }] },
          advance(17),
          { t: 'crash', tab: 3, reload: false },
          { t: 'send', tab: 0, events: [{ ...valid, props: 'none', source: 'none' }] },
        ],
        [],
        { ...flaky, tabs: 2, flushIntervalMs: 3e9, storageLatencyMs: 5, seed: 799554475 },
      ),
    ));

  // A simulator fix, not a product one (seed 20261127): the history corrupted (chunkGarbage) the
  // chunk of a tab that is not the sender before the sender read it. The sender quarantined it and
  // counted it `corrupt` with no id to name, so the tab kept its copy and its flush() resolved false.
  // The loss check excused the corrupted id already; the flush check now does the same.
  it('a non-sending tab whose chunk the history corrupted is excused from flush() true, as from the loss check', () =>
    holds(
      history(
        [
          { t: 'burst', tab: 0, count: 70, sources: 1 },
          { t: 'burst', tab: 0, count: 11, sources: 1 },
          advance(1),
          { t: 'open' },
          track({ props: 'none', source: 'none' }, 1),
          advance(79),
          { t: 'corrupt', what: 'chunkGarbage', pick: 543 },
          advance(0),
        ],
        [],
        { ...flaky, tabs: 1, maxQueueEvents: 1000, flushIntervalMs: 100, storageLatencyMs: 0, seed: 0 },
      ),
    ));

  // A simulator fix (seed 1040571876): a closing tab tracks e180 into storage; the live sender,
  // whose reads failed until storage healed, takes it in during a server's Retry-After pause
  // ("+2027", which Date.parse reads as the year 2027: capped to maxRetryAfterMs, 1 h) and
  // delivers it after. The reload check waited ~2 min: the reloads cannot send
  // (the live sender holds the lock). It now waits out a server's pause first, as the flush budget does.
  it('an event a live sender holds through a server pause is not counted stuck by the reload check', () =>
    holds(
      history(
        [
          { t: 'faults', failRate: 0.3, loseRate: 0 },
          track({ props: 'none', source: 'none' }, 0),
          { t: 'burst', tab: 1, count: 179, sources: 3 },
          { t: 'close', tab: 1 },
          advance(314),
          track({ props: 'none', source: 'none' }, 1),
        ],
        [{ kind: 'status', status: 408 }, { kind: 'ok', body: 'reply' }, { kind: 'status', status: 408 }, { kind: 'status', status: 408, retryAfter: '+2027' }],
        { ...flaky, tabs: 2, maxQueueEvents: 10_000, flushIntervalMs: 100, concurrency: 3, latencyMs: 500, storageLatencyMs: 0, failRate: 0, retry: { limit: 0, baseMs: 10, maxDelayMs: 100 }, seed: 0 },
      ),
    ));

  // F15 (seed -970046894): a tab that is not the sender stores two events; the history damages
  // one record (properties not an object). The sender quarantines it and reports it `corrupt` by
  // id, but did not tell the other tabs, as it does for every other drop: the tab that tracked it
  // kept waiting for it, its flush() false on a healthy network with no storage fault at all.
  it('a record the sender quarantines by id leaves the tab that tracked it: its flush() resolves true', () =>
    holds(
      history(
        [{ t: 'burst', tab: 3, count: 2, sources: 1 }, advance(102), { t: 'corrupt', what: 'recordBadProperties', pick: 0 }, track({ props: 'none', source: 'long' }, 0)],
        [],
        { ...flaky, tabs: 2, flushIntervalMs: 100, storageLatencyMs: 100, failRate: 0, reentrant: true, seed: -122174785 },
      ),
    ));

  // A simulator fix (seed 126626748): one tab, no storage, 249 events in single-event batches at
  // 500 ms each after a 1 h Retry-After pause; delivery took 3725 s against a 3724 s budget that
  // did not count sending the backlog one request after another. The budget now does.
  it('delivery after a 1 h pause is budgeted for the backlog it then sends', () =>
    holds(
      history(
        [{ t: 'burst', tab: 0, count: 248, sources: 1 }, track({ props: 'none', source: 'none', id: 'empty' })],
        [{ kind: 'status', status: 408, retryAfter: '+2027' }],
        { maxBatchEvents: 1, maxQueueEvents: 10_000, flushIntervalMs: 100, timeoutMs: 1000, concurrency: 1, latencyMs: 500, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, seed: 0 },
      ),
    ));
});

// Found by random seeds after issue 9's first round (docs/durability.md, "Open findings" then):
// a new sender settles a crashed page's leases through the collector's receipts (wire.ts
// ReceiptReply, src/platform/lease-receipts.ts). Each history below is a shrunk random one.
describe('receipts of a crashed page', () => {
  const crashed: SimConfig = { ...config, storage: true, coordinate: true, maxBatchEvents: 1, maxQueueEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, concurrency: 1, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, storageLatencyMs: 0, storageApply: false, seed: 0 };
  const none = { props: 'none', source: 'none', pick: 0 } as const;
  const crash: Step = { t: 'crash', tab: 0, reload: false };

  // seed -446231129: one coordinated tab sends an event the collector's rule drops and crashes
  // before the reply; the next page asked the receipt ({received: true}) and counted it sent.
  it('an event the collector ruled, acknowledged by a receipt, is counted and reported ruled', () =>
    holds({ config: { ...crashed, reentrant: true, latencyMs: 500 }, script: [], steps: [track({ ...none, name: 'ruled' }), advance(6), crash, track({ ...none, id: 'empty' })] }));

  // seed -951344364: a burst of 236, a crash with a request in flight, the clock back an hour.
  it('a ruled event in the burst a crashed page had in flight is reported ruled, after a clock jump back', () =>
    holds({ config: crashed, script: [], steps: [advance(3), { t: 'burst', tab: 0, count: 236, sources: 1 }, track(none), advance(2), crash, { t: 'jump', ms: -3_600_000 }] }));

  // seed -330039759: a burst of 63, a crash 135 ms later.
  it('a ruled event among many a crashed page had sent is reported ruled', () =>
    holds({ config: crashed, script: [], steps: [{ t: 'burst', tab: 0, count: 63, sources: 1 }, advance(135), crash, track(none)] }));

  // A simulator fix (seed -115747502): the history tore a chunk (chunkGarbage), then damaged a
  // record of the same chunk: the simulator parsed the torn chunk and the history threw.
  it('damaging a record of a chunk already torn changes nothing (the simulator does not throw)', () =>
    holds({ config: { ...crashed, coordinate: false, reentrant: true, latencyMs: 1 }, script: [], steps: [{ t: 'burst', tab: 0, count: 1, sources: 1 }, advance(2), { t: 'corrupt', what: 'chunkGarbage', pick: 0 }, { t: 'corrupt', what: 'recordBadProperties', pick: 0 }, { t: 'flush', tab: 0, timeoutMs: 0 }] }));

  // seed -1122189457: three tabs; tab 2 (not the sender) send()s one event, the sender crashes
  // with it in flight, the next sender's receipt acknowledges it, but only that tab forgot it:
  // tab 2 kept its copy and its flush() never resolved true.
  it('events a receipt acknowledged leave every tab: the tracking tab flush() resolves true', () =>
    holds({ config: { ...crashed, tabs: 3, reentrant: true, latencyMs: 1 }, script: [], steps: [{ t: 'send', tab: 2, events: [{ ...valid, ...none }] }, advance(6), crash, track(none)] }));
});

// seed -1318360457 (docs/durability.md, once an open finding): the sender holds 724 events during
// a 1 h pause and loads the other tab's 277 (1,001); its onError tracks again on each overflow, so
// 1,001 evictions run in one call and the last report (the other tab's e1000) is past the
// reporter's bound, counted in the sender's unreportedErrors. A simulator fix: that count was
// only credited to the tab that tracked the event, so e1000 read as lost.
describe('two tabs past maxQueueEvents', () => {
  it("another tab's event whose overflow report the sender cut off (unreportedErrors) is accounted", () =>
    holds({
      config: { ...config, storage: true, tabs: 2, maxBatchEvents: 1, maxQueueEvents: 1000, minBatchEvents: 1, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, reentrant: true, latencyMs: 1, storageLatencyMs: 0, storageApply: false, coordinate: true, seed: 0 },
      script: [{ kind: 'status', status: 408, retryAfter: '+2027' }],
      steps: [
        { t: 'burst', tab: 0, count: 263, sources: 1 },
        { t: 'burst', tab: 0, count: 255, sources: 1 },
        { t: 'burst', tab: 0, count: 206, sources: 1 },
        advance(728),
        { t: 'burst', tab: 1, count: 277, sources: 1 },
        track({ props: 'none', source: 'none', stream: 'long', pick: 0 }),
      ],
    }));
});

// Issue 9's open findings about waiting (docs/durability.md, "Open findings", fixed on branch pause).
describe('waiting without waking', () => {
  // seed -1448556261: the tab that crashed held one event under minBatchEvents (10, cut to
  // maxBatchEvents 5); its flush timer found too few at every 100 ms interval and re-armed, 36,000
  // idle wake-ups through the other tab's 1 h Retry-After pause, past the end check's budget.
  it('a tab holding fewer than minBatchEvents events does not wake every flushIntervalMs', () =>
    holds({
      config: { ...config, storage: true, tabs: 1, maxBatchEvents: 5, maxQueueEvents: 10, minBatchEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, latencyMs: 1, storageLatencyMs: 0, storageApply: false, seed: 0 },
      script: [{ kind: 'status', status: 408, retryAfter: '+2027' }],
      steps: [track({ props: 'none', source: 'none', pick: 0 }), { t: 'open' }, advance(3), { t: 'crash', tab: 0, reload: false }, { t: 'faults', failRate: 0, loseRate: 0 }],
    }));

  // seed -934525758: the second tab reuses the sender's id e0 and tracks e1 in the same chunk. The
  // sender's lease on its own e0, in flight, made its read skip that chunk until the lease ended
  // (2 x timeoutMs, 49.7 days with Infinity): e1 waited as long, and its tab's flush() failed.
  it("a chunk holding an id of this tab's own request in flight is read at once, not after the lease", () =>
    holds({
      config: { ...config, storage: true, tabs: 2, maxBatchEvents: 100, maxQueueEvents: 10, minBatchEvents: 1, flushIntervalMs: 100, timeoutMs: Infinity, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, latencyMs: 20, storageLatencyMs: 0, storageApply: false, coordinate: true, seed: 0 },
      script: [],
      steps: [advance(3), track({ props: 'none', source: 'none', pick: 0 }), track({ props: 'none', source: 'none', id: 'dup', pick: 0 }, 3), { t: 'burst', tab: 1, count: 1, sources: 1 }],
    }));
});

// Found by random seeds on branch pause: simulator fixes (docs/durability.md, "Open findings").
describe('simulator fixes from random seeds (branch pause)', () => {
  // seed 1245665988: the delete of an acknowledged event's chunk was lost (loseRate), a later read
  // took the event in again and it was sent and counted `sent` twice: the documented limit "What
  // storage must keep", which the counter balance check did not excuse (the loss check did).
  it('an acknowledged event a lost delete left in storage is sent again without a counter violation', () =>
    holds({
      config: { ...config, storage: true, tabs: 1, maxBatchEvents: 1, maxQueueEvents: 10, minBatchEvents: 1, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, latencyMs: 1, storageLatencyMs: 5, storageApply: true, coordinate: false, seed: -1191149164 },
      script: [],
      steps: [{ t: 'faults', failRate: 0.3, loseRate: 0.05 }, { t: 'burst', tab: 0, count: 7, sources: 1 }, advance(13), { t: 'flush', tab: 0, timeoutMs: 0 }],
    }));

  // seed -439420171: the history tore the chunk of a non-sending tab's one send() event, which had
  // no id of the history's own (the tracker made one); the sender quarantined it, counted, naming
  // no id, and that tab kept its copy. Excused like the same event with an id (a simulator fix).
  it("a non-sending tab whose corrupted event had the tracker's own id is excused from flush() true", () =>
    holds({
      config: { ...config, storage: true, tabs: 2, maxBatchEvents: 1, maxQueueEvents: 10, minBatchEvents: 1, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, latencyMs: 1, storageLatencyMs: 100, storageApply: false, coordinate: true, seed: 0 },
      script: [],
      steps: [
        { t: 'send', tab: 1, events: [{ ...valid, props: 'none', id: 'none', source: 'none', pick: 0 }] },
        advance(59),
        { t: 'corrupt', what: 'chunkGarbage', pick: 0 },
        { t: 'send', tab: 0, events: [{ ...valid, props: 'none', source: 'none', pick: 0 }] },
      ],
    }));
});

describe('a failed storage write is retried by itself (branch wretry)', () => {
  // seed -579417675: the tab that is not the sender bursts 241 events into a cap of 10 while 30 %
  // of storage operations fail; it evicts e0-e230 before their chunks are written (kept for the
  // sender, uncounted) and its write ticks fail. A failed tick was written again only by a later
  // append, removal or lease: this tab does nothing more, so e0-e19 never reached storage.
  it("a non-sending tab's failed chunk write is written again without another append", () =>
    holds({
      config: { ...config, storage: true, tabs: 2, maxBatchEvents: 20, maxQueueEvents: 10, minBatchEvents: 1, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, latencyMs: 1, storageLatencyMs: 100, storageApply: false, coordinate: true, seed: 0 },
      script: [],
      steps: [advance(56), { t: 'faults', failRate: 0.3, loseRate: 0 }, { t: 'burst', tab: 1, count: 241, sources: 1 }, advance(101)],
    }));
});

// seed 527197183 (docs/durability.md, once an open finding): tab 1, not the sender, tracks 78
// events with maxQueueEvents 10 and evicts 68 of them from memory before they are written; they
// stay in its chunks for the sender. Storage faults make each write of those chunks fail; the
// sender closes, tab 1 takes over, and its full read skipped the chunks with a write pending.
// Once written, they were this tab's own known chunks, which no later read takes in: 68 events
// stranded in storage while tab 1 lived (and kept the lock from every reload).
describe('events evicted before the takeover, in chunks whose write failed', () => {
  const stranded: SimConfig = { ...config, storage: true, tabs: 2, maxBatchEvents: 1, maxQueueEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, concurrency: 1, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, latencyMs: 1, storageLatencyMs: 0, storageApply: false, coordinate: true, seed: 0 };
  const steps: Step[] = [advance(1), { t: 'burst', tab: 3, count: 78, sources: 1 }, { t: 'faults', failRate: 0.05, loseRate: 0 }, { t: 'close', tab: 0 }, advance(10)];

  it('the new sender reads them from memory and sends them', () => holds({ config: stranded, script: [], steps }));

  it('the same after a crash of the sender', () => holds({ config: stranded, script: [], steps: steps.map((step) => (step.t === 'close' ? { t: 'crash', tab: 0, reload: false } : step)) }));

  // A variant (not from a random seed): with maxBatchEvents 3, evicted e66 and e67 share a chunk
  // with e68, which tab 1 sends itself while its writes fail. At the takeover the full read skips
  // that chunk for e68's lease; the chunk stays known, and the rescan at the lease's end skipped it.
  it('a chunk with a write pending that the full read skipped for a lease is read once the lease ends', () =>
    holds({ config: { ...stranded, maxBatchEvents: 3, latencyMs: 50 }, script: [], steps: [advance(1), { t: 'burst', tab: 1, count: 78, sources: 1 }, { t: 'faults', failRate: 0.05, loseRate: 0 }, advance(3), { t: 'close', tab: 0 }, advance(10)] }));

  // seed -672630671, found while exploring with the first form of the fix (a chunk with a write
  // pending read from memory in any read): the sender's read of tab 1's chunk with a damaged
  // record marked it for quarantine, then failed; the next read took "the pending write" from
  // memory, which never held the chunk (empty), and deleted e1-e19 from storage. Passes on main.
  it('a quarantine a failed read marked is read from storage again, not emptied', () =>
    holds({
      config: { ...stranded, maxBatchEvents: 20 },
      script: [],
      steps: [
        advance(1),
        { t: 'burst', tab: 1, count: 81, sources: 1 },
        { t: 'faults', failRate: 0.3, loseRate: 0 },
        advance(102),
        { t: 'corrupt', what: 'recordBadProperties', pick: 0 },
        advance(505),
        { t: 'send', tab: 0, events: [{ ...valid, props: 'none', source: 'none', stream: 'ui', pick: 0 }, { ...valid, props: 'none', source: 'none', pick: 0 }] },
        advance(1834),
      ],
    }));

  // As the random seed found it: re-entrant onError, and a chunk torn 10 ms after the close
  // (the oldest one, which is not what strands the others).
  it('as found: with a chunk torn after the close', () =>
    holds({ config: { ...stranded, reentrant: true }, script: [], steps: [...steps, { t: 'corrupt', what: 'chunkGarbage', pick: 0 }] }));
});

// Not a random seed: a variant written while tracing the above. Tab 1 writes e0-e9, then its
// second burst evicts e0-e4 (stored) before it sends, and it forgot them from its chunk's memory.
// It takes the lock, its full read fails (storage faults), it sends its memory anyway and
// acknowledging e5-e9 deleted the chunk, which memory said held nothing else: e0-e4 lost.
// A tab that does not send now forgets the whole chunk of an event it evicts (outbox.forget `whole`).
describe('evicted stored events of a tab that then sends', () => {
  it('stay in storage when the tab acknowledges the rest of their chunk, and are sent', () =>
    holds({
      config: { ...config, storage: true, tabs: 2, maxBatchEvents: 20, maxQueueEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, latencyMs: 1, storageLatencyMs: 5, storageApply: false, coordinate: true, failRate: 0.3, seed: 19 },
      script: [],
      steps: [advance(1), { t: 'burst', tab: 1, count: 10, sources: 1 }, advance(3), { t: 'burst', tab: 1, count: 5, sources: 1 }, advance(500)],
    }));
});

// seed 1390015432 (SIM_SEED=random, 40,000 histories): the sender (tab 2) closes while its read
// of the other tabs' chunks runs. close() resolved with an empty queue; the read then finished,
// took 12 events into the closed tab, and evicted the 2 oldest past the cap of 10: counted as
// its overflow, their chunks deleted, no tab told (its channel was closed). Tab 1 kept its copy
// of one of them, e13, so its flush() never resolved true (and as the next sender it would
// have sent an event counted dropped). A closed tracker now takes nothing in from a read.
describe('a read that ends after close()', () => {
  const closing: SimConfig = { ...config, storage: true, tabs: 3, maxBatchEvents: 100, maxQueueEvents: 10, flushIntervalMs: 100, timeoutMs: 1000, retry: { limit: Infinity, baseMs: 10, maxDelayMs: 100 }, concurrency: 1, reentrant: true, latencyMs: 1, storageLatencyMs: 5, storageApply: false, coordinate: true, seed: -1489598966 };
  const none: Partial<EventSpec> = { name: 'view', props: 'none', source: 'none', pick: 0 };
  const before: Step[] = [
    advance(3),
    { t: 'burst', tab: 2, count: 1, sources: 1 },
    { t: 'burst', tab: 0, count: 1, sources: 1 },
    track({ ...none, stream: 'long' }),
    { t: 'burst', tab: 0, count: 10, sources: 1 },
    { t: 'close', tab: 2 },
  ];

  it('as found: a send() on another tab right after the close', () =>
    holds({ config: closing, script: [], steps: [...before, { t: 'send', tab: 1, events: [{ ...valid, ...none }, { ...valid, ...none, ts: 'nan' }] }] }));

  it('a track() on another tab right after the close', () => holds({ config: closing, script: [], steps: [...before, track(none, 1)] }));
});
