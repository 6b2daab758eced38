// The package's main entry as Workers resolve it (the `workerd` export condition of
// package.json): the same exports, but a createTracker that never carries the browser parts
// (unload path, tab coordination, IndexedDB and idb-keyval), which a Worker could not use.
import { serverPlatform } from '../integration.js';
import type { TrackerOptions } from '../options.js';
import { createTrackerOn, type Tracker } from '../tracker.js';

export * from '../index.js';

/** Creates a tracker: see the main entry's `createTracker`. In workerd, events stay in memory. */
export function createTracker(options: TrackerOptions): Tracker {
  return createTrackerOn(serverPlatform, options);
}
