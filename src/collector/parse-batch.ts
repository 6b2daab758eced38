import { eventProblem, idProblem, jsonDepthExceeds, maxBatchEvents, maxDepth, streamProblem, type WireEvent } from '../wire.js';

/** A batch refused, with the status and code of the reply. */
export interface BatchError {
  ok: false;
  status: 400 | 413;
  code: 'bad_json' | 'bad_shape' | 'too_deep' | 'too_large' | 'stream_mismatch';
  message: string;
}

/** A batch accepted for storing: every event normalized, in the request's stream, with its JSON as stored. */
export interface ParsedBatch {
  ok: true;
  events: { event: WireEvent; data: string }[];
}

/**
 * Largest event the collector stores, as JSON in UTF-16 code units: a Durable Object's SQLite row
 * holds at most 2 MB (Cloudflare's SQL limits), and 600,000 units are at most 1.8 MB of UTF-8.
 * The tracker refuses events over 32 KiB at `track()` anyway.
 */
export const maxStoredEventLength = 600_000;

const decoder = new TextDecoder();

// body object (1) > events array (2) > event (3) > properties, which wire.ts counts as depth 1.
const bodyDepth = maxDepth + 3;

/**
 * Parses an inflated wire v1 body: depth scan before `JSON.parse` (a 20,000-deep event never
 * reaches the parser or the store), then every field with wire.ts's checks, then the stream
 * rule: each event is in the request's `stream` (its own `stream` is absent or the same), because
 * the request was signed with that stream's key.
 */
export function parseBatch(bytes: Uint8Array, stream: string | undefined): ParsedBatch | BatchError {
  let text = decoder.decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return fail('bad_json', 'body is empty');
  if (jsonDepthExceeds(text, bodyDepth)) return fail('too_deep', `properties nest deeper than ${maxDepth} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail('bad_json', `body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('bad_shape', 'body must be a JSON object');
  const body = parsed as Record<string, unknown>;
  if (body.sentAt !== undefined && (typeof body.sentAt !== 'number' || !Number.isFinite(body.sentAt))) {
    return fail('bad_shape', 'sentAt must be a finite number (epoch milliseconds)');
  }
  const list = body.events;
  if (!Array.isArray(list)) return fail('bad_shape', 'events must be an array');
  // 413, not 400: the batch is fine, only too big, and a tracker splits on 413.
  if (list.length > maxBatchEvents) {
    return { ok: false, status: 413, code: 'too_large', message: `too many events: ${list.length}, the limit is ${maxBatchEvents} per request` };
  }
  const events: ParsedBatch['events'] = [];
  for (let i = 0; i < list.length; i++) {
    const problem = eventProblem(list[i]);
    if (problem) return fail('bad_shape', problem.startsWith('event ') ? `events[${i}] ${problem.slice(6)}` : `events[${i}].${problem}`);
    const e = list[i] as WireEvent;
    if (e.stream !== undefined && e.stream !== stream) {
      const where = stream === undefined ? 'a request that names no stream' : `a request on stream "${stream}"`;
      return fail('stream_mismatch', `events[${i}] is in stream "${e.stream}" but came in ${where}; send each stream to its own request`);
    }
    // Only the fields of wire v1: the feed serves the event as tracked, nothing a client slipped in.
    const event: WireEvent = { id: e.id, name: e.name, timestamp: e.timestamp };
    if (e.sourceId !== undefined) event.sourceId = e.sourceId;
    if (stream !== undefined) event.stream = stream;
    if (e.properties !== undefined) event.properties = e.properties;
    const data = JSON.stringify(event);
    // 413 like a too-large batch: the tracker splits down to this one event and then drops it, counted.
    if (data.length > maxStoredEventLength) {
      return { ok: false, status: 413, code: 'too_large', message: `events[${i}] is ${data.length} characters as JSON, over the limit of ${maxStoredEventLength}` };
    }
    events.push({ event, data });
  }
  return { ok: true, events };
}

/** What is wrong with the request's `stream` and `rid` parameters, or `undefined`. */
export function paramsProblem(stream: string | null, rid: string | null): string | undefined {
  if (stream !== null && (stream === '' || streamProblem(stream))) return `stream parameter: ${streamProblem(stream) ?? 'must not be empty'}`;
  if (rid !== null && idProblem(rid)) return `rid parameter: ${idProblem(rid)!.replace(/^id/, 'rid')}`;
  return undefined;
}

function fail(code: BatchError['code'], message: string): BatchError {
  return { ok: false, status: 400, code, message };
}
