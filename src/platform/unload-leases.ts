/** An unload request the page handed to the browser: what the next page asks a receipt for. */
export interface UnloadLease {
  rid: string;
  /** The events it carried are held back until then. */
  until: number;
  ids: string[];
  stream: string;
}

/**
 * The rids of unload requests this page sent. Its own reply or receipt settles them: a takeover
 * in this page must not ask for them as a closed page's (a receipt's acknowledgement there took
 * the page's own held-back events out of memory uncounted).
 */
export const ownUnloadRids = new Set<string>();

/**
 * Unload leases in localStorage, one key per tracker name. The IndexedDB lease written at
 * `pagehide` never lands in WebKit (its transaction dies with the page); a localStorage write is
 * done when the call returns, and the next page of the origin reads it. `update` gets the
 * leases unexpired now (`options.now()`) and returns what to keep; the function returns what it got.
 */
export function unloadLeases(options: { name: string; now(): number }, update: (leases: UnloadLease[]) => UnloadLease[]): UnloadLease[] {
  const key = `outbox:${options.name}:unload`;
  const now = options.now();
  try {
    // No key: getItem answers null, which JSON.parse reads as null (String(null)), not an array: no leases.
    const stored = JSON.parse(localStorage.getItem(key)!) as UnloadLease[] | null;
    const leases = Array.isArray(stored) ? stored.filter((lease) => lease?.until > now && Array.isArray(lease.ids)) : [];
    const kept = update(leases);
    if (kept.length) localStorage.setItem(key, JSON.stringify(kept));
    else localStorage.removeItem(key);
    return leases;
  } catch {
    // No localStorage (sandboxed frames, storage blocked), a torn value or the quota: the
    // IndexedDB lease (where it lands) and the receipt still hold.
    return [];
  }
}
