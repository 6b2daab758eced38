/**
 * A small async key-value store: all outbox needs from a storage backend. Order, chunking,
 * eviction and acknowledgement live once in the core (`outbox.ts`), so an adapter is a dozen
 * lines. `keys(prefix)` may return keys in any order (the core sorts them).
 */
export interface StorageAdapter {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  /**
   * Optional: several writes and deletes in one go (one IndexedDB transaction). The outbox uses it
   * when present, so that a tick's work costs one transaction, not one per key.
   */
  apply?(sets: readonly (readonly [string, string])[], deletes: readonly string[]): Promise<void>;
  /**
   * Optional: calls `listener` after another context (another tab) wrote to the same store, and
   * returns the unsubscribe. Storage that offers it is shared between tabs: in browsers one tab
   * then sends for all (tab-leader.ts), and the others' writes nudge it.
   */
  watch?(listener: () => void): () => void;
}
