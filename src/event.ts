import { OutboxError } from './errors.js';
import { idProblem, jsonDepthExceeds, maxDepth, nameProblem, sourceIdProblem, streamProblem, timestampProblem } from './wire.js';

/** Per-call options of `track()`. */
export interface TrackOptions {
  /** Overrides the tracker's `sourceId` for this event. */
  sourceId?: string;
  /** Epoch milliseconds; defaults to now. Lets a snippet replay calls with their original time. */
  timestamp?: number;
  /** The stream (destination) of this event. */
  stream?: string;
  /** Your own unique event id, so the collector de-duplicates your own retries. */
  id?: string;
}

/**
 * An event waiting in the outbox. It is serialized once, at `track()`: `json` is a snapshot of
 * the caller's object in its wire form, and `bytes` its UTF-8 size. Batches join these strings.
 */
export interface QueuedEvent {
  id: string;
  name: string;
  sourceId: string;
  stream: string;
  json: string;
  bytes: number;
  /** Tracker-local arrival order, so `flush()` knows what was queued before it. */
  seq: number;
}

let lastName: unknown;
let lastNameJson: string;

/**
 * Serializes one event to its wire form, checking exactly what wire format v1 requires (wire.ts),
 * so a collector never refuses a batch for an event `track()` took. Throws an
 * {@link OutboxError} (`invalid` or `too_large`) that `track()` turns into a counted drop; it
 * never throws anything else. `generated`: the id is createIdGenerator's (no escaping needed).
 * Answers `[json, bytes]` (a pair: no object built per event).
 */
export function serializeEvent(
  id: string,
  name: unknown,
  timestamp: number,
  sourceId: string | undefined,
  stream: string | undefined,
  properties: unknown,
  maxEventBytes: number,
  generated?: boolean,
): [json: string, bytes: number] {
  const nameIssue = nameProblem(name);
  if (nameIssue) throw new OutboxError('invalid', `event ${nameIssue}, got ${describe(name)}`);
  const issue =
    idProblem(id) ?? timestampProblem(timestamp) ?? sourceIdProblem(sourceId) ?? streamProblem(stream) ??
    (properties !== undefined && (properties === null || typeof properties !== 'object' || Array.isArray(properties)) ? `properties must be an object, got ${describe(properties)}` : undefined);
  if (issue) throw new OutboxError('invalid', `event "${name as string}": ${issue}`);
  let json: string;
  let bytes: number;
  try {
    // The envelope is concatenated and only the properties go through JSON.stringify: 4x cheaper
    // than stringifying the whole object with a replacer, and the same bytes.
    // A generated id is base-32 (createIdGenerator): nothing to escape. Names repeat: the last
    // one's JSON is kept. Each stringify saved is a string less to allocate and collect per event.
    if (name !== lastName) lastNameJson = JSON.stringify((lastName = name));
    json = `{"id":${generated ? `"${id}"` : JSON.stringify(id)},"name":${lastNameJson},"timestamp":${timestamp}`;
    if (sourceId !== undefined) json += `,"sourceId":${JSON.stringify(sourceId)}`;
    if (stream !== undefined) json += `,"stream":${JSON.stringify(stream)}`;
    if (properties !== undefined) {
      const flat = isFlat(properties as object);
      const text = JSON.stringify(properties, flat ? undefined : replacer);
      // A Date, URL, boxed String or a toJSON returning a string serializes to a non-object,
      // which the collector refuses (and with it the whole batch); a toJSON returning undefined
      // serializes to nothing at all (JSON.stringify answers undefined, whatever its type says).
      if (text?.charCodeAt(0) !== 123 /* { */) throw new TypeError(`properties must serialize to a JSON object, not ${text === undefined ? 'nothing' : text.slice(0, 40)}`);
      // Flat properties are depth 1: only the nested path pays for the scan.
      if (!flat && jsonDepthExceeds(text, maxDepth)) throw new TypeError(`properties nest deeper than ${maxDepth} levels`);
      json += `,"properties":${text}`;
    }
    json += '}';
    // utf8Length's regex test flattens the concatenation into one string, which the queue keeps:
    // the tree of parts it replaces held twice the bytes (bench/node-case.mjs memory: 485 → 260 B
    // an event) and made each chunk's copy walk it.
    bytes = utf8Length(json);
  } catch (error) {
    throw new OutboxError('invalid', `event "${name as string}" cannot be serialized: ${errorText(error)}`, { cause: error });
  }
  if (bytes > maxEventBytes) {
    throw new OutboxError('too_large', `event "${name as string}" is ${bytes} bytes, over maxEventBytes (${maxEventBytes})`, { events: [JSON.parse(json)] });
  }
  return [json, bytes];
}

// Flat properties of JSON-safe primitives (the common case) need no replacer, nor a depth scan.
// A toJSON (own or inherited, e.g. a class's) may serialize to anything: not flat.
function isFlat(properties: object): boolean {
  if ('toJSON' in properties) return false;
  for (const key in properties) {
    const value = (properties as Record<string, unknown>)[key];
    const type = typeof value;
    if (type === 'object' ? value !== null : type !== 'string' && type !== 'number' && type !== 'boolean' && type !== 'undefined') return false;
  }
  return true;
}

// JSON.stringify calls toJSON (Dates) before this. BigInts become strings rather than throwing,
// Maps and Sets keep their content, and what JSON would silently drop is refused instead.
function replacer(key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      throw new TypeError(`property "${key}" is a ${typeof value}`);
    case 'object':
      if (value instanceof Map) return Object.fromEntries(value);
      if (value instanceof Set) return [...value];
      if (value instanceof Error) return { name: value.name, message: value.message };
      return value;
    default:
      return value;
  }
}

const nonAscii = /[^\x00-\x7f]/;

/**
 * UTF-8 byte length of a string. ASCII (most events) is its length; anything else is encoded,
 * which also counts a lone surrogate as the 3-byte U+FFFD that goes on the wire.
 */
export function utf8Length(text: string): number {
  return nonAscii.test(text) ? utf8.encode(text).length : text.length;
}

/** The one UTF-8 encoder: request bodies (transport/encode.ts) and non-ASCII sizes. */
export const utf8 = new TextEncoder();

function describe(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    if (value === null || typeof value !== 'object') return String(value);
    return Object.prototype.toString.call(value);
  } catch {
    return 'an unreadable value'; // a Proxy whose traps throw when inspected
  }
}

/**
 * Anything thrown in words (an Error as `name: message`), without ever throwing itself: a Proxy,
 * a throwing getter, a null-prototype object, which `String()` refuses (a custom transport may
 * reject with one: its batch never settled).
 */
export function errorText(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return 'an unreadable value';
  }
}

/**
 * Makes event ids: a random prefix drawn once per tracker (80 bits from `crypto.getRandomValues`,
 * which also works outside secure contexts) plus a counter. Unique across tabs, reloads and
 * processes, short on the wire, and ~20x cheaper than a UUID per event.
 */
export function createIdGenerator(): () => string {
  let prefix = '';
  let counter = 0;
  return () => {
    // Drawn lazily: Workers forbid randomness at import (global) time.
    if (!prefix) prefix = randomId(16);
    return prefix + (counter++).toString(36);
  };
}

/** `length` random base-32 characters. */
export function randomId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = '';
  for (const byte of bytes) id += (byte & 31).toString(32);
  return id;
}
