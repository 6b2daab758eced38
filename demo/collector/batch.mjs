import { eventProblem, jsonDepthExceeds, maxDepth } from '../../dist/wire.js';

/**
 * Parsing and validating a wire-format v1 batch:
 * `{"sentAt": 1732000000000, "events": [{"id", "name", "timestamp", "sourceId"?, "stream"?,
 * "properties"?, ...extra fields kept}]}`. The field checks are wire.ts's (`outbox/wire`), the
 * ones `track()` applies, so the collector refuses exactly what a tracker bug could let through.
 *
 * A reference collector is strict on purpose: a tracker bug should show up as a 400 naming the
 * field, not as an event that silently looks different on the server.
 *
 * @typedef {import('../../dist/wire.js').WireEvent & { [extra: string]: unknown }} WireEvent
 * @typedef {{ sentAt?: number, events: WireEvent[] }} WireBatch
 * @typedef {{ ok: true, batch: WireBatch }
 *   | { ok: false, status: 400 | 413, code: 'bad_json' | 'bad_shape' | 'too_deep' | 'too_large' | 'wrong_stream',
 *       message: string }} ParseResult
 */

/**
 * The body nests three levels above an event's properties (batch object, events array, event),
 * so properties at wire.ts's `maxDepth` are a body at this depth.
 */
export const MAX_BODY_DEPTH = maxDepth + 3;

/**
 * @param {Buffer} body decoded (inflated) request body
 * @param {number} maxEvents
 * @param {string | undefined} stream the request's `stream` parameter: every event must be in it
 * @returns {ParseResult}
 */
export function parseBatch(body, maxEvents, stream) {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return fail('bad_json', 'body is empty');
  // Before JSON.parse: a 20,000-deep value parses fine, but then breaks whoever serializes it.
  if (jsonDepthExceeds(text, MAX_BODY_DEPTH)) {
    return fail('too_deep', `body nests deeper than ${MAX_BODY_DEPTH} (event properties at most ${maxDepth})`);
  }
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail('bad_json', `body is not valid JSON: ${/** @type {Error} */ (error).message}`);
  }
  if (!isPlainObject(parsed)) return fail('bad_shape', 'body must be a JSON object');
  if (parsed.sentAt !== undefined && !isFiniteNumber(parsed.sentAt)) {
    return fail('bad_shape', 'sentAt must be a finite number (epoch milliseconds)');
  }
  const { events } = parsed;
  if (!Array.isArray(events)) return fail('bad_shape', 'events must be an array');
  if (events.length > maxEvents) {
    // 413, not 400: the batch is fine, only too big, and a client splits on 413 instead of dropping.
    return {
      ok: false,
      status: 413,
      code: 'too_large',
      message: `too many events: ${events.length}, the limit is ${maxEvents} per request`,
    };
  }
  for (let i = 0; i < events.length; i++) {
    const problem = eventProblem(events[i]);
    if (problem) return fail('bad_shape', `events[${i}]: ${problem}`);
    // The key that signed the request is the URL stream's: an event of another stream would be
    // signed with a key that is not its own (a page's public key signing a server stream).
    const own = events[i].stream ?? '';
    if (own !== '' && own !== (stream ?? '')) {
      return fail('wrong_stream', `events[${i}] is in stream "${own}" but the request is for ${stream === undefined ? 'no stream' : `stream "${stream}"`}`);
    }
  }
  return { ok: true, batch: /** @type {WireBatch} */ (parsed) };
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is number}
 */
function isFiniteNumber(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * @param {'bad_json' | 'bad_shape' | 'too_deep' | 'wrong_stream'} code
 * @param {string} message
 * @returns {ParseResult}
 */
function fail(code, message) {
  return { ok: false, status: 400, code, message };
}
