import type { Integration } from '../integration.js';

/**
 * Sends what is queued when the page is hidden or unloaded (issue 4 replaces this placeholder
 * with the budgeted beacon / fetchLater path).
 */
export const pageLifecycle: Integration = () => undefined;
