/**
 * Waiting helpers that never outlive the collector: each resolves early or rejects clearly,
 * and leaves no timer or listener behind.
 */

const POLL_MS = 20;

/**
 * Resolves when `check()` returns truthy, polled every 20 ms; rejects after `timeoutMs` with
 * the predicate's source in the message, so a failing test says what it was waiting for.
 * @param {() => unknown} check
 * @param {number} timeoutMs
 * @param {Function} predicate shown in the error message
 * @returns {Promise<void>}
 */
export function waitFor(check, timeoutMs, predicate = check) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    /** @type {unknown} */
    let lastError;
    const poll = () => {
      try {
        if (check()) return resolve();
        lastError = undefined;
      } catch (error) {
        // A predicate may throw until the state it reads exists; keep polling, report it on timeout.
        lastError = error;
      }
      if (Date.now() >= deadline) {
        const source = String(predicate).replace(/\s+/g, ' ').slice(0, 200);
        const cause = lastError ? `; it last threw: ${/** @type {Error} */ (lastError).message}` : '';
        return reject(new Error(`[collector] waitFor timed out after ${timeoutMs} ms waiting for ${source}${cause}`));
      }
      setTimeout(poll, POLL_MS);
    };
    poll();
  });
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal resolves early when aborted
 * @returns {Promise<void>}
 */
export function delay(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
