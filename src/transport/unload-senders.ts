/** What `fetchLater()` returns: whether the browser has sent the deferred request yet. */
export interface FetchLaterResult {
  readonly activated: boolean;
}

/** The platform's `fetchLater` (Chromium 135+): a request the browser sends when the page goes away, or after `activateAfter`. */
export type FetchLater = (input: string, init: RequestInit & { activateAfter?: number }) => FetchLaterResult;

/**
 * The browser APIs the unload path sends through (method names unlike the APIs', so the script
 * tag's build may shorten them: rollup.config.mjs), injected so the transport's choices are tested
 * on their own. Each is looked up when called, not when the transport is made: a page (or a test)
 * may install or wrap them later. A sender may throw; the transport treats that as refused.
 */
export interface UnloadSenders {
  /** `fetchLater`, bound; undefined where the platform has none. */
  findFetchLater(): FetchLater | undefined;
  /** POSTs `body` with `keepalive`; undefined where `keepalive` is not honoured (nothing was sent). */
  postKeepalive(url: string, body: Uint8Array): Promise<Response> | undefined;
  /** Queues a beacon: false when refused (over the quota), undefined where `sendBeacon` is missing. */
  queueBeacon(url: string, body: Uint8Array): boolean | undefined;
}

/** The platform's senders: `fetchLater`, a keepalive `fetch` and `navigator.sendBeacon`. */
export const platformSenders: UnloadSenders = {
  findFetchLater: () => (globalThis as { fetchLater?: FetchLater }).fetchLater?.bind(globalThis),
  // Browsers that honour `keepalive` expose it on Request (Firefox before 133 ignored it: the
  // request died with the page, so a beacon is the better bet there).
  postKeepalive: (url, body) =>
    typeof Request === 'function' && 'keepalive' in Request.prototype ? fetch(url, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, keepalive: true }) : undefined,
  queueBeacon: (url, body) => navigator.sendBeacon?.(url, body as Uint8Array<ArrayBuffer>),
};
