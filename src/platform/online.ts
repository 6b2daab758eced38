import type { Integration } from '../integration.js';

/**
 * Retries at once when the browser says it is back online, instead of waiting out the backoff.
 * Only that: `navigator.onLine` is a hint (true behind a dead Wi-Fi, Sentry #6403), so failures,
 * not the flag, decide whether to wait.
 */
export const onlineRetry: Integration = (core) => {
  // Installed by platformDefaults only in browsers, where addEventListener exists.
  const wake = () => core.wake(true);
  addEventListener('online', wake);
  return () => removeEventListener('online', wake);
};
