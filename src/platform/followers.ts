import type { TrackerCore } from '../integration.js';

/**
 * Trackers whose tab leaves what storage holds to another live tab: one waiting on a live sending
 * tab (another tab holds the sender lock), or a sender that other tabs wait on (the next sender
 * sends it at once). Tab coordination fills it; the unload path reads it: beaconing those events
 * too only makes duplicates.
 */
export const followers = new WeakSet<TrackerCore>();
