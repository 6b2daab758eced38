import type { Integration } from '../integration.js';
import type { StorageAdapter } from '../storage/storage.js';
import { onlineRetry } from './online.js';
import { pageLifecycle } from './page-lifecycle.js';
import { tabCoordination } from './tab-leader.js';

/** What a tracker gets by default on the platform it runs on. */
export interface PlatformDefaults {
  /** Integrations started with every tracker (page lifecycle, tab coordination in browsers). */
  integrations: Integration[];
  /** The default storage when `storage` is not given (IndexedDB in browsers, loaded lazily). */
  storage?: (name: string) => Promise<StorageAdapter | undefined>;
}

/**
 * Browsers get IndexedDB storage, the unload path and tab coordination; Node and workerd get
 * memory and nothing else. IndexedDB is imported lazily so that a bundle which never needs it
 * (memory storage, Workers) does not carry idb-keyval.
 */
export function platformDefaults(): PlatformDefaults {
  if (typeof window === 'undefined' || typeof document === 'undefined') return { integrations: [] };
  return {
    integrations: [pageLifecycle, tabCoordination, onlineRetry],
    // Probed once (open + a write): where IndexedDB is missing or blocked the tracker keeps events
    // in memory and reports it once through onError.
    storage: (name) => import('../storage/indexeddb.js').then((m) => m.openIndexedDbStorage({ name })),
  };
}
