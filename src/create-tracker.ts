import type { TrackerOptions } from './options.js';
import { platformDefaults } from './platform/defaults.js';
import { createTrackerOn, type Tracker } from './tracker.js';

/**
 * Creates a tracker. Options have documented defaults (see {@link TrackerOptions}); only
 * `endpoint` (or a `transport`) is required. Starts no timer until there is something to send.
 * In browsers, events are stored in IndexedDB and the unload path and tab coordination start;
 * elsewhere events are kept in memory. Workers resolve `outbox` to a build without the browser
 * parts (the `workerd` export condition).
 */
export function createTracker(options: TrackerOptions): Tracker {
  return createTrackerOn(platformDefaults(), options);
}
