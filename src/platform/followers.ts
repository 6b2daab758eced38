import type { TrackerCore } from '../integration.js';

/**
 * Trackers whose tab is known to wait on a live sending tab: another tab holds the sender lock.
 * Tab coordination fills it; the unload path reads it, because what such a tab has in storage is
 * the live sender's to send, and beaconing it too only makes duplicates.
 */
export const followers = new WeakSet<TrackerCore>();
