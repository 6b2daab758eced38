import { createServer } from 'node:http';
import { maxBatchEvents, maxBodyBytes, maxInflatedBytes } from '../../dist/wire.js';
import { controlRoutes } from './controls.mjs';
import { normalizeAllowedOrigins } from './cors.mjs';
import { createFeed, handleFeed } from './feed.mjs';
import { normalizeFaults } from './faults.mjs';
import { handleIngest, handleReceipt } from './ingest.mjs';
import { handleLive } from './live.mjs';
import { sendError, sendJson } from './reply.mjs';
import { createRouter } from './router.mjs';
import { normalizeRules } from './rules.mjs';
import { normalizeAuthKeys } from './signature.mjs';
import { createStats } from './stats.mjs';
import { createEventStore } from './store.mjs';
import { delay, waitFor } from './wait.mjs';

/**
 * The reference collector: wire format v1 ingest, de-duplication, drop rules, signatures,
 * fault injection, stats, and a ZeroEventHub feed of what it stored. Used by the demo, the
 * benchmarks and the end-to-end tests.
 *
 * @typedef {object} CollectorOptions
 * @property {number} [port] 0 (default) picks a free port
 * @property {string} [host] default '127.0.0.1'
 * @property {string} [ndjsonPath] append every stored event to this file, one JSON line each
 * @property {number} [partitions] feed partitions, default 4
 * @property {number} [maxBodyBytes] raw body limit, default wire.ts `maxBodyBytes` (1 MiB)
 * @property {number} [maxDecompressedBytes] inflated body limit, default wire.ts `maxInflatedBytes` (8 MiB)
 * @property {number} [maxEvents] events per request, default wire.ts `maxBatchEvents` (1,000)
 * @property {boolean} [testControls] serve the test controls over HTTP (`/events`, `/faults`,
 *   `/rules`, `/reset`, each needing the header `x-outbox-test-control: 1`); default false
 * @property {'*' | string[]} [allowedOrigins] origins whose pages may call ingest (CORS, never
 *   with credentials); default '*'
 * @property {string} [feedToken] when set, the feed needs `Authorization: Bearer <feedToken>`
 * @property {Record<string, string | Uint8Array>} [authKeys] stream → HMAC key, '*' for any stream
 * @property {DropRule[]} [rules] server drop rules
 * @property {Faults} [faults] initial faults
 * @property {number | { events?: number, requests?: number }} [dedupeWindow] ids remembered:
 *   a number sets the event id window (default 1,000,000); request ids default to 100,000
 * @property {boolean} [quiet] no logging; default true under vitest or OUTBOX_COLLECTOR_QUIET=1
 */

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  partitions: 4,
  maxBodyBytes,
  maxDecompressedBytes: maxInflatedBytes,
  maxEvents: maxBatchEvents,
  eventWindow: 1_000_000,
  requestWindow: 100_000,
};

/**
 * @typedef {object} Collector
 * @property {string} url e.g. http://127.0.0.1:PORT
 * @property {number} port
 * @property {string} endpoint url + '/v1/batch'
 * @property {string} feedUrl url + '/feed/v1'
 * @property {() => WireEvent[]} events stored events in arrival order (a copy of the list)
 * @property {() => CollectorStats} stats
 * @property {() => Readonly<Faults>} faults the current faults
 * @property {(faults: Faults) => void} setFaults replaces the faults; throws TypeError on bad input
 * @property {() => void} clearFaults
 * @property {() => readonly DropRule[]} rules
 * @property {(rules: DropRule[]) => void} setRules replaces the rules; throws TypeError on bad input
 * @property {(keys: Record<string, string | Uint8Array> | null | undefined) => void} setAuthKeys
 *   replaces the keys; null or undefined turns signatures off
 * @property {() => void} reset forgets events, stats, id windows, feed and faults; rules and keys stay
 * @property {(predicate: (collector: Collector) => unknown, timeoutMs?: number) => Promise<void>} waitFor
 *   resolves when the predicate holds (polled every 20 ms); rejects after timeoutMs (default 5000)
 * @property {() => Promise<void>} close stops listening and ends every connection; idempotent
 *
 * @typedef {import('./batch.mjs').WireEvent} WireEvent
 * @typedef {import('./stats.mjs').CollectorStats} CollectorStats
 * @typedef {import('./faults.mjs').Faults} Faults
 * @typedef {import('./rules.mjs').DropRule} DropRule
 */

/**
 * Starts a collector and resolves once it listens.
 * @param {CollectorOptions} [options]
 * @returns {Promise<Collector>}
 */
export async function startCollector(options = {}) {
  const limits = {
    maxBodyBytes: positiveInteger(options, 'maxBodyBytes', DEFAULTS.maxBodyBytes),
    maxDecompressedBytes: positiveInteger(options, 'maxDecompressedBytes', DEFAULTS.maxDecompressedBytes),
    maxEvents: positiveInteger(options, 'maxEvents', DEFAULTS.maxEvents),
  };
  const windows = typeof options.dedupeWindow === 'object' ? options.dedupeWindow : { events: options.dedupeWindow };
  const quiet = options.quiet ?? (process.env.VITEST !== undefined || process.env.OUTBOX_COLLECTOR_QUIET === '1');

  const stats = createStats();
  const feed = createFeed(positiveInteger(options, 'partitions', DEFAULTS.partitions));
  const store = createEventStore({
    feed,
    eventWindow: positiveInteger(windows, 'events', DEFAULTS.eventWindow),
    requestWindow: positiveInteger(windows, 'requests', DEFAULTS.requestWindow),
    ndjsonPath: options.ndjsonPath,
  });
  let faults = normalizeFaults(options.faults);
  let refuseUntil = faults.refuseForMs ? Date.now() + faults.refuseForMs : 0;
  let rules = normalizeRules(options.rules);
  let authKeys = normalizeAuthKeys(options.authKeys);
  // One signal ends everything long-lived: SSE timers, long polls, latency delays.
  const closing = new AbortController();

  /** @param {unknown} next */
  const setFaults = (next) => {
    faults = normalizeFaults(next);
    refuseUntil = faults.refuseForMs ? Date.now() + faults.refuseForMs : 0;
  };
  const clearFaults = () => setFaults({});
  /** @param {unknown} next */
  const setRules = (next) => {
    rules = normalizeRules(next);
  };
  const reset = () => {
    store.reset();
    stats.reset();
    clearFaults();
  };

  /** @type {import('./ingest.mjs').IngestContext} */
  const ingest = {
    limits,
    stats,
    store,
    faults: () => faults,
    authKeys: () => authKeys,
    rules: () => rules,
    delay: (ms) => delay(ms, closing.signal),
  };

  const allowedOrigins = normalizeAllowedOrigins(options.allowedOrigins);
  const feedToken = options.feedToken;
  if (feedToken !== undefined && (typeof feedToken !== 'string' || feedToken === '')) {
    throw new TypeError('[collector] feedToken must be a non-empty string');
  }

  /** @type {import('./controls.mjs').Routes} */
  const routes = {
    '/v1/batch': {
      POST: (req, res, url) => handleIngest(req, res, url, ingest),
      GET: (req, res, url) => handleReceipt(res, url, store),
    },
    '/feed/v1': {
      GET: (req, res, url) => {
        // Consumers are servers with a token; pages never get the feed (no CORS on it either).
        if (feedToken !== undefined && req.headers.authorization !== `Bearer ${feedToken}`) {
          return sendError(res, 401, 'unauthorized', 'the feed needs Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
        }
        return handleFeed(req, res, url, feed, closing.signal);
      },
    },
    '/stats': { GET: (req, res) => sendJson(res, 200, stats.snapshot()) },
    '/live': { GET: (req, res) => handleLive(req, res, stats.snapshot, closing.signal) },
    '/health': { GET: (req, res) => sendJson(res, 200, { ok: true }) },
  };
  // Pages may call these (the tracker, the demo's live counters): counters, never events.
  const corsPaths = new Set(['/v1/batch', '/stats', '/live', '/health']);
  if (options.testControls === true) {
    Object.assign(routes, controlRoutes({ events: () => store.events(), faults: () => faults, setFaults, clearFaults, rules: () => rules, setRules, reset }));
  }

  const route = createRouter({ routes, corsPaths, allowedOrigins, onPreflight: () => stats.counters().preflights++ });

  const server = createServer((req, res) => {
    // Also on requests, not only new connections: a kept-alive socket must fail the same way.
    if (Date.now() < refuseUntil) {
      refused();
      req.socket.destroy();
      return;
    }
    Promise.resolve()
      .then(() => route(req, res))
      .catch((error) => {
        if (!quiet) console.error('[collector] request failed:', error);
        sendError(res, 500, 'internal', String(error?.message ?? error));
      });
  });
  const refused = () => {
    const counters = stats.counters();
    counters.refusedConnections++;
    counters.faultsInjected++;
  };
  server.on('connection', (socket) => {
    if (Date.now() < refuseUntil) {
      refused();
      socket.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULTS.port, options.host ?? DEFAULTS.host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  /** @type {Promise<void> | undefined} */
  let closed;
  /** @type {Collector} */
  const collector = {
    url,
    port: address.port,
    endpoint: `${url}/v1/batch`,
    feedUrl: `${url}/feed/v1`,
    events: () => store.events().slice(),
    stats: () => stats.snapshot(),
    faults: () => faults,
    setFaults,
    clearFaults,
    rules: () => rules,
    setRules,
    setAuthKeys: (next) => {
      authKeys = normalizeAuthKeys(next);
    },
    reset,
    waitFor: (predicate, timeoutMs = 5000) => waitFor(() => predicate(collector), timeoutMs, predicate),
    close() {
      closed ??= new Promise((resolve) => {
        closing.abort();
        // Give answers already under way (long polls, delayed replies) a moment, then cut.
        const force = setTimeout(() => server.closeAllConnections(), 100);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
  return collector;
}

/**
 * @param {Record<string, unknown> | undefined} options
 * @param {string} name
 * @param {number} fallback
 */
function positiveInteger(options, name, fallback) {
  const value = options?.[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`[collector] ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}
