import type { Integration } from '../integration.js';
import type { StorageAdapter } from '../storage/storage.js';

/** What a tracker gets by default on the platform it runs on. */
export interface PlatformDefaults {
  /** Integrations started with every tracker (page lifecycle, tab coordination in browsers). */
  integrations: Integration[];
  /** The default storage when `storage` is not given (IndexedDB in browsers, loaded lazily). */
  storage?: () => Promise<StorageAdapter | undefined>;
}

/** Outside browsers (Node, workerd): memory storage, no integrations. */
export function platformDefaults(): PlatformDefaults {
  return { integrations: [] };
}
