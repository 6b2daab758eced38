import type { Batch, Entry } from './queue-model.js';

/**
 * The entry of an event tracked here (intake builds one per `track()` and `send()`): an
 * {@link Entry} whose `id` is read back from its JSON rather than kept beside it, the largest part
 * of an entry after its JSON (bench/node-case.mjs memory: 253 -> 208 heap bytes an event).
 * Entries loaded from storage stay plain objects: their JSON is another writer's.
 */
export class TrackedEntry implements Entry {
  // Declared, not defined: a class field would ship code for each. Every field an entry gets in
  // its life up to delivery is assigned in the constructor, so it is stored in the object itself:
  // one added later costs a separate property array and a change of shape, per event.
  declare name: string;
  declare sourceId: string;
  declare stream: string;
  declare json: string;
  declare bytes: number;
  declare seq: number;
  declare chunk: string | undefined;
  declare stored: boolean | undefined;
  declare batch: Batch | undefined;

  constructor(name: string, sourceId: string, stream: string, json: string, bytes: number, seq: number) {
    this.name = name;
    this.sourceId = sourceId;
    this.stream = stream;
    this.json = json;
    this.bytes = bytes;
    this.seq = seq;
    this.chunk = this.stored = this.batch = undefined;
  }

  /**
   * The event's id. serializeEvent writes the JSON as `{"id":<id>,"name":`, and `","name":` cannot
   * occur inside the id's JSON string, where every quote is escaped.
   */
  get id(): string {
    return JSON.parse(this.json.slice(6, this.json.indexOf('","name":') + 1)) as string;
  }
}
