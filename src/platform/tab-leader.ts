import type { Integration } from '../integration.js';

/** One sending tab per origin (issue 3 replaces this placeholder with Web Locks + BroadcastChannel). */
export const tabCoordination: Integration = () => undefined;
