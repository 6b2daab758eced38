/** One batch as a transport sees it: its request id, stream and serialized events. */
export interface WireBatch {
  /** Request id, the same on every retry of this batch, so the collector can spot repeats. */
  rid: string;
  /** The stream of every event in the batch ('' for none). */
  stream: string;
  /** The events, each already serialized (`json`) with its UTF-8 size. */
  events: readonly { json: string; bytes: number }[];
}

/** What a delivery attempt came to. */
export type SendOutcome =
  /** Acknowledged: the events leave the outbox. `reply` is the parsed JSON body, if any. */
  | { kind: 'ok'; status?: number; reply?: unknown; bytes?: number }
  /** Failed for now (network, timeout, 408, 429, 5xx); `retryAfterMs` from the server pauses the queue. */
  | { kind: 'retry'; status?: number; retryAfterMs?: number; error: unknown }
  /** Too large (413): split the batch; a single event is dropped as `too_large`. */
  | { kind: 'split'; status: number; error: unknown }
  /** Refused for good (other 4xx): the events are dropped as `rejected`. */
  | { kind: 'drop'; status: number; error: unknown };

/**
 * Delivers batches. The HTTP transport (fetch) is the default; `outbox/transport/queues` sends to a
 * Cloudflare Queue. A transport classifies its own failures; it should not throw.
 */
export interface Transport {
  send(batch: WireBatch): Promise<SendOutcome>;
}
