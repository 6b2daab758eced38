/**
 * CORS for the routes a web page may call (ingest, receipts, the counters): never with
 * credentials, so a page can send events and read replies but no cookie or auth ever rides
 * along, and a page of another site cannot read anything that needs one. Routes without a
 * policy here (the feed, the test controls) get no CORS headers at all: browsers keep their
 * answers from every cross-origin page.
 *
 * @typedef {'*' | ReadonlySet<string>} AllowedOrigins `*` or the exact origins allowed
 */

/**
 * @param {unknown} input `'*'` (default) or an array of origins such as `https://app.example`
 * @returns {AllowedOrigins}
 */
export function normalizeAllowedOrigins(input) {
  if (input === undefined || input === null || input === '*') return '*';
  if (!Array.isArray(input) || input.some((origin) => typeof origin !== 'string' || origin === '' || origin === '*')) {
    throw new TypeError('[collector] allowedOrigins must be "*" or an array of origins like "https://app.example"');
  }
  return new Set(input);
}

/**
 * Sets the CORS headers of an answer to `origin`, when that origin is allowed.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {AllowedOrigins} allowed
 */
export function applyCors(req, res, allowed) {
  const origin = req.headers.origin;
  if (allowed === '*') {
    res.setHeader('Access-Control-Allow-Origin', '*');
  } else {
    // The answer depends on the Origin, so caches must key on it.
    res.setHeader('Vary', 'Origin');
    if (typeof origin !== 'string' || !allowed.has(origin)) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
  }
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  // Echoed rather than `*` alone: the wildcard never covers Authorization (Fetch standard), which
  // a tracker's `headers` option may send.
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] || '*');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
}
