/**
 * Wire format v1: the one definition the tracker (at `track()`), the reference collector and the
 * durable collector (`outbox/collector`) all check against, so an event `track()` accepts is an
 * event every collector stores, and a batch never fails for one event the tracker let through.
 *
 * ```
 * POST {endpoint}?rid=<batch id>[&encoding=gzip][&stream=<name>][&sig=<hex>][&test=1]
 * {"sentAt": 1732000000000, "events": [{"id", "name", "timestamp", "sourceId"?, "stream"?, "properties"?}]}
 * ```
 *
 * A 2xx reply body is a {@link BatchReply}. `GET {endpoint}?receipt=<rid>` answers a
 * {@link ReceiptReply}: whether a request with that `rid` was committed, and which of its events
 * the rules dropped (the next page asks this about the unload request of the last one instead of
 * re-sending it or waiting out its lease).
 */

/** Longest event id, in UTF-16 code units. */
export const maxIdLength = 256;
/** Longest event name, in UTF-16 code units. */
export const maxNameLength = 256;
/** Longest `sourceId`, in UTF-16 code units. */
export const maxSourceIdLength = 256;
/** Longest stream name, in UTF-16 code units. */
export const maxStreamLength = 128;
/** Deepest nesting of `properties`: the properties object itself is depth 1. */
export const maxDepth = 32;
/** Timestamps are epoch milliseconds a `Date` can hold (±8.64e15). */
export const maxTimestamp = 8.64e15;
/** Events per request a collector accepts (more is a 413: the client splits). */
export const maxBatchEvents = 1000;
/** Raw (possibly gzipped) request body a collector reads at most (more is a 413). */
export const maxBodyBytes = 1024 * 1024;
/** Inflated body a collector accepts at most: a gzip bomb stops inflating here (413). */
export const maxInflatedBytes = 8 * 1024 * 1024;
/** Most drop rules one reply may carry, and a tracker keeps. */
export const maxRules = 64;
/** Reply bytes a tracker reads at most from a 2xx (the rest is cancelled, never buffered). */
export const maxReplyBytes = 64 * 1024;

/** One event on the wire, as tracked. */
export interface WireEvent {
  id: string;
  name: string;
  timestamp: number;
  sourceId?: string;
  stream?: string;
  properties?: Record<string, unknown>;
}

/** A drop rule as a collector sends it: every field it sets must equal the event's. */
export interface WireRule {
  name?: string;
  stream?: string;
  sourceId?: string;
  ttlMs: number;
}

/**
 * The body of a 2xx reply to a batch. `ruled` lists the ids of the batch's events the collector
 * dropped under its rules (not stored); every other event of the batch was stored now or before
 * (`duplicates` counts the latter). A tracker accounts from `ruled`, never by re-matching rules.
 */
export interface BatchReply {
  accepted: number;
  duplicates: number;
  ruled?: string[];
  rules?: WireRule[];
}

/**
 * The body of a 200 reply to `GET {endpoint}?receipt=<rid>`. `ruled` (when `received`) lists the
 * ids of that request's events the collector dropped under its rules, as the request's own
 * {@link BatchReply} did: a page that never heard that reply accounts them `ruled`, not `sent`.
 * Absent (an older collector) means none.
 */
export interface ReceiptReply {
  rid: string;
  received: boolean;
  ruled?: string[];
}

/**
 * One check for the four string fields, whose messages differ only in the name and the limit
 * (one copy of the wording in the script tag); rules.ts checks a drop rule's fields with it.
 */
export function stringProblem(value: unknown, field: string, max: number, optional?: boolean): string | undefined {
  if (optional && value === undefined) return undefined;
  if (typeof value !== 'string' || (!optional && !value)) return `${field} must be a ${optional ? '' : 'non-empty '}string`;
  return value.length > max ? `${field} is longer than ${max} characters` : undefined;
}

/**
 * What is wrong with one field of an event, or `undefined`. Shared by `track()` (which checks
 * the fields it is given before it serializes) and the collectors (which check parsed events).
 */
export const idProblem = (id: unknown): string | undefined => stringProblem(id, 'id', maxIdLength);

/** See {@link idProblem}. */
export const nameProblem = (name: unknown): string | undefined => stringProblem(name, 'name', maxNameLength);

/** See {@link idProblem}. */
export const timestampProblem = (timestamp: unknown): string | undefined =>
  // NaN and ±Infinity fail the comparison too.
  typeof timestamp !== 'number' || !(Math.abs(timestamp) <= maxTimestamp) ? 'timestamp must be epoch milliseconds a Date can hold' : undefined;

/** See {@link idProblem}. `undefined` is allowed: the field is optional. */
export const sourceIdProblem = (sourceId: unknown): string | undefined => stringProblem(sourceId, 'sourceId', maxSourceIdLength, true);

/** See {@link idProblem}. `undefined` is allowed: the field is optional. */
export const streamProblem = (stream: unknown): string | undefined => stringProblem(stream, 'stream', maxStreamLength, true);

// A JSON object: not null, not an array.
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What is wrong with a parsed wire event, or `undefined`. Checks every field of {@link WireEvent};
 * nesting depth is checked on the JSON text ({@link jsonDepthExceeds}), where it costs one scan.
 */
export function eventProblem(event: unknown): string | undefined {
  if (!isObject(event)) return 'event must be an object';
  const properties = event.properties;
  return (
    idProblem(event.id) ??
    nameProblem(event.name) ??
    timestampProblem(event.timestamp) ??
    sourceIdProblem(event.sourceId) ??
    streamProblem(event.stream) ??
    (properties === undefined || isObject(properties) ? undefined : 'properties must be a JSON object')
  );
}

/**
 * Whether JSON text nests objects and arrays deeper than `limit` (the outermost value is depth 1).
 * One pass, no parse, strings skipped: cheap enough for a collector to run on every body before
 * `JSON.parse`, and for `track()` on nested properties.
 */
export function jsonDepthExceeds(json: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < json.length; i++) {
        const s = json.charCodeAt(i);
        if (s === 92 /* \ */) i++;
        else if (s === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}
