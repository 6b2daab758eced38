/** An unload request the page handed to the browser: what the next page asks a receipt for. */
export interface UnloadLease {
  rid: string;
  /** The events it carried are held back until then. */
  until: number;
  ids: string[];
  stream: string;
}

const key = (name: string) => `outbox:${name}:unload`;

function read(name: string): UnloadLease[] {
  try {
    const leases = JSON.parse(localStorage.getItem(key(name)) ?? '[]') as unknown;
    return Array.isArray(leases) ? leases.filter((l: UnloadLease) => typeof l?.rid === 'string' && Array.isArray(l.ids) && typeof l.until === 'number') : [];
  } catch {
    return []; // no localStorage (sandboxed frames, storage blocked), or a torn value
  }
}

function write(name: string, leases: readonly UnloadLease[]): void {
  try {
    if (leases.length) localStorage.setItem(key(name), JSON.stringify(leases));
    else localStorage.removeItem(key(name));
  } catch {
    // Quota or blocked storage: the IndexedDB lease (where it lands) and the receipt still hold.
  }
}

/**
 * Records an unload request in localStorage, synchronously. The IndexedDB lease written at
 * `pagehide` never lands in WebKit (its transaction dies with the page); a localStorage write is
 * done when the call returns, and the next page of the origin reads it.
 */
export function saveUnloadLease(name: string, lease: UnloadLease, now: number): void {
  write(name, [...read(name).filter((l) => l.until > now), lease]);
}

/** Takes (reads and removes) the unexpired unload leases recorded by earlier pages of the origin. */
export function takeUnloadLeases(name: string, now: number): UnloadLease[] {
  const leases = read(name);
  if (leases.length) write(name, []);
  return leases.filter((l) => l.until > now);
}

/** Removes the lease of request `rid` (its receipt came, or the same page saw its reply). */
export function dropUnloadLease(name: string, rid: string): void {
  const leases = read(name);
  const rest = leases.filter((l) => l.rid !== rid);
  if (rest.length !== leases.length) write(name, rest);
}
