/**
 * The parts of Cloudflare's Durable Objects API the collector uses, declared structurally so
 * `src/` type-checks without the Workers types (the tests check them against the real ones).
 */

/** A value SQLite hands back. */
export type SqlValue = ArrayBuffer | string | number | null;

/** `ctx.storage.sql.exec(...)`'s cursor: iterable row by row, so a read can stop early. */
export interface SqlCursorLike<T> extends Iterable<T> {
  toArray(): T[];
  one(): T;
}

/** `ctx.storage.sql` of a Durable Object with SQLite storage. */
export interface SqlStorageLike {
  exec<T extends Record<string, SqlValue>>(query: string, ...bindings: unknown[]): SqlCursorLike<T>;
}

/** The `ctx` a Durable Object is constructed with. */
export interface DurableObjectStateLike {
  storage: { sql: SqlStorageLike; transactionSync<T>(closure: () => T): T };
}

/** A Durable Object namespace binding: one object per partition, by name. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: Request): Promise<Response> };
}
