import { utf8Length } from './event.js';
import type { StoredEvent } from './outbox-types.js';
import type { StorageAdapter } from './storage/storage.js';
import { jsonArray } from './transport/encode.js';
import { eventProblem, jsonDepthExceeds, maxDepth } from './wire.js';

// The stored form of the outbox's events (chunks: JSON arrays of wire records) and how a record is
// read back. Everything read from storage is untrusted: these refuse rather than throw.

// One join: a flat string, which storage clones in one copy (appending built a tree of two
// nodes per event that the structured clone had to walk and flatten first).
/** A chunk's stored text: a JSON array of the events' wire records. */
export const serializeChunk: (events: Iterable<StoredEvent>) => string = jsonArray;

/**
 * Writes `sets` and `deletes`: in one `apply` where the adapter has it. Each call is made in an
 * async function: one that throws synchronously is a rejection, and the calls made before it
 * still reach Promise.all (their rejections handled; sim F5).
 */
export const writeAll = async (storage: StorageAdapter, sets: [string, string][], deletes: string[]): Promise<unknown> =>
  storage.apply ? storage.apply(sets, deletes) : Promise.all([...sets.map(async ([key, value]) => storage.set(key, value)), ...deletes.map(async (key) => storage.delete(key))]);

/** JSON.parse that answers undefined for a torn or foreign value: skipped, never fatal. */
export function parseJson<T>(text: string | undefined): T | undefined {
  try {
    // Undefined reads as the text "undefined": a SyntaxError, like any torn value.
    return JSON.parse(text!) as T;
  } catch {
    return undefined;
  }
}

/**
 * Rebuilds a queued event from its stored wire form, or undefined when it is not a valid wire
 * format v1 event (it would poison its batch). Its `json` is re-serialized from the parsed record
 * (same content) and `seq` is set by the tracker when it takes the event in. `stored`: whether its
 * chunk is in storage (a chunk read from memory may not be written yet).
 */
export function restoreEvent(record: unknown, chunk: string, stored: boolean): StoredEvent | undefined {
  if (eventProblem(record)) return undefined;
  const event = record as { id: string; name: string; sourceId?: string; stream?: string };
  const json = JSON.stringify(record);
  // The event object is one level above its properties (wire.ts counts properties as depth 1).
  if (jsonDepthExceeds(json, maxDepth + 1)) return undefined;
  return {
    id: event.id,
    name: event.name,
    sourceId: event.sourceId ?? '',
    stream: event.stream ?? '',
    json,
    bytes: utf8Length(json),
    seq: 0,
    chunk,
    stored,
  };
}
