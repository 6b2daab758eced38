import { appendFileSync } from 'node:fs';
import { createIdWindow } from './dedupe.mjs';
import { matchRule } from './rules.mjs';

/**
 * Where accepted events go: memory (arrival order), the feed partitions, and optionally an
 * NDJSON file. De-duplication happens here, by event id; the request id window only feeds a
 * statistic, because a retried batch may legitimately carry new events under the same rid.
 *
 * @typedef {import('./batch.mjs').WireEvent} WireEvent
 * @typedef {import('./rules.mjs').DropRule} DropRule
 * @typedef {{ accepted: number, duplicates: number, ruled: number, ruledIds: string[], matchedRules: DropRule[] }} RecordResult
 */

/**
 * @param {object} options
 * @param {import('./feed.mjs').Feed} options.feed
 * @param {number} options.eventWindow event ids remembered
 * @param {number} options.requestWindow request ids remembered
 * @param {string} [options.ndjsonPath]
 */
export function createEventStore({ feed, eventWindow, requestWindow, ndjsonPath }) {
  const eventIds = createIdWindow(eventWindow);
  const requestIds = createIdWindow(requestWindow);
  // The ids the rules dropped, per request that had any: a receipt repeats them (wire.ts
  // ReceiptReply `ruled`). At most as many requests as the request id window, oldest out first.
  /** @type {Map<string, string[]>} */
  const ruledByRequest = new Map();
  /** @type {WireEvent[]} */
  let events = [];
  // Fail at start-up, not on the first batch, when the file cannot be written.
  if (ndjsonPath) appendFileSync(ndjsonPath, '');

  return {
    feed,
    /**
     * Remembers `rid`; true when it was seen before.
     * @param {string} rid
     */
    isDuplicateRequest: (rid) => !requestIds.add(rid),
    /**
     * Whether a request with this rid was committed (and is still in the window).
     * @param {string} rid
     */
    wasCommitted: (rid) => requestIds.has(rid),
    /**
     * Remembers which ids of request `rid` the rules dropped (the last attempt's say).
     * @param {string} rid
     * @param {string[]} ids
     */
    noteRuled(rid, ids) {
      ruledByRequest.delete(rid);
      if (ids.length === 0) return;
      ruledByRequest.set(rid, ids);
      if (ruledByRequest.size > requestWindow) ruledByRequest.delete(/** @type {string} */ (ruledByRequest.keys().next().value));
    },
    /**
     * The ids of request `rid` the rules dropped, when it had any.
     * @param {string} rid
     */
    ruledOf: (rid) => ruledByRequest.get(rid),
    /**
     * Stores the events that are neither duplicates nor dropped by a rule.
     * @param {WireEvent[]} batch
     * @param {readonly DropRule[]} rules
     * @param {string | undefined} requestStream the request's `stream` query parameter
     * @returns {RecordResult}
     */
    record(batch, rules, requestStream) {
      /** @type {Set<DropRule>} */
      const matched = new Set();
      /** @type {WireEvent[]} */
      const fresh = [];
      /** @type {Set<string>} */
      const freshIds = new Set();
      let duplicates = 0;
      /** @type {string[]} */
      const ruledIds = [];
      for (const event of batch) {
        // Checked before the rules so a retry of an event stored earlier still reads "duplicate".
        if (eventIds.has(event.id) || freshIds.has(event.id)) {
          duplicates++;
          continue;
        }
        const rule = rules.length > 0 ? matchRule(rules, event, requestStream) : undefined;
        if (rule) {
          ruledIds.push(event.id);
          matched.add(rule);
          continue;
        }
        freshIds.add(event.id);
        fresh.push(event);
      }
      // One write per request, synchronous so the file is complete whenever a reply was sent, and
      // before anything is remembered: if it throws, the request fails and nothing is half-stored.
      if (ndjsonPath && fresh.length > 0) {
        appendFileSync(ndjsonPath, fresh.map((event) => JSON.stringify(event) + '\n').join(''));
      }
      for (const event of fresh) {
        eventIds.add(event.id);
        events.push(event);
        feed.append(event);
      }
      return { accepted: fresh.length, duplicates, ruled: ruledIds.length, ruledIds, matchedRules: [...matched] };
    },
    events: () => events,
    reset() {
      events = [];
      eventIds.clear();
      requestIds.clear();
      ruledByRequest.clear();
      feed.reset();
    },
  };
}

/** @typedef {ReturnType<typeof createEventStore>} EventStore */
