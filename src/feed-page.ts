// The shapes a ZeroEventHub feed is read in: a cursor per partition, the event lines, and one page
// (a response). In their own file so the page parser and the paging decision need not import the
// reader that uses them.

/** A position in one partition of the feed. The cursor is opaque: store it, send it back. */
export interface Cursor {
  partition: number;
  cursor: string;
}

/** One event line of the feed. */
export interface FeedEvent<T = unknown> {
  partition: number;
  /** Present when the server sent headers (see `eventHeaders`). */
  headers?: Record<string, string>;
  data: T;
}

/** One response of the feed. */
export interface FeedPage<T = unknown> {
  /** Event lines, in the order received. Between checkpoints, their order carries no meaning. */
  events: FeedEvent<T>[];
  /** Checkpoint lines, in the order received. */
  checkpoints: Cursor[];
  /**
   * What to store with the effects of `events` and pass next: the cursors asked for, each
   * replaced by its partition's latest checkpoint in this page.
   */
  cursors: Cursor[];
}
