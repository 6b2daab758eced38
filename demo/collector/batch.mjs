/**
 * Parsing and validating a wire-format v1 batch:
 * `{"sentAt": 1732000000000, "events": [{"id", "name", "timestamp", "sourceId"?, "stream"?,
 * "properties"?, ...extra fields kept}]}`.
 *
 * A reference collector is strict on purpose: a tracker bug should show up as a 400 naming the
 * field, not as an event that silently looks different on the server.
 *
 * @typedef {{ id: string, name: string, timestamp: number, sourceId?: string, stream?: string,
 *   properties?: Record<string, unknown>, [extra: string]: unknown }} WireEvent
 * @typedef {{ sentAt?: number, events: WireEvent[] }} WireBatch
 * @typedef {{ ok: true, batch: WireBatch }
 *   | { ok: false, status: 400 | 413, code: 'bad_json' | 'bad_shape' | 'too_large', message: string }} ParseResult
 */

/** Ids longer than this are refused: the id window holds up to a million of them in memory. */
export const MAX_ID_LENGTH = 256;

/**
 * @param {Buffer} body decoded (inflated) request body
 * @param {number} maxEvents
 * @returns {ParseResult}
 */
export function parseBatch(body, maxEvents) {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return fail('bad_json', 'body is empty');
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
    if (problem) return fail('bad_shape', `events[${i}]${problem}`);
  }
  return { ok: true, batch: /** @type {WireBatch} */ (parsed) };
}

/**
 * @param {unknown} event
 * @returns {string | undefined} what is wrong, as a suffix to `events[i]`
 */
function eventProblem(event) {
  if (!isPlainObject(event)) return ' must be an object';
  if (typeof event.id !== 'string' || event.id === '') return '.id must be a non-empty string';
  if (event.id.length > MAX_ID_LENGTH) return `.id is longer than ${MAX_ID_LENGTH} characters`;
  if (typeof event.name !== 'string' || event.name === '') return '.name must be a non-empty string';
  if (!isFiniteNumber(event.timestamp)) return '.timestamp must be a finite number (epoch milliseconds)';
  if (event.sourceId !== undefined && typeof event.sourceId !== 'string') return '.sourceId must be a string';
  if (event.stream !== undefined && typeof event.stream !== 'string') return '.stream must be a string';
  if (event.properties !== undefined && !isPlainObject(event.properties)) return '.properties must be an object';
  return undefined;
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
 * @param {'bad_json' | 'bad_shape'} code
 * @param {string} message
 * @returns {ParseResult}
 */
function fail(code, message) {
  return { ok: false, status: 400, code, message };
}
