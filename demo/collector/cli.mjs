#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * Runs the reference collector from a terminal:
 *   node demo/collector/cli.mjs [--port 8787] [--host 127.0.0.1] [--ndjson events.ndjson]
 *     [--partitions 4] [--fail-rate 0.2 --fail-status 503 --retry-after-sec 2] [--latency-ms 300]
 *     [--auth-key secret] [--key STREAM=KEY …] [--allow-origin https://app.example …]
 *     [--feed-token T] [--test-controls]
 * It prints where it listens, then one summary line every few seconds while traffic changes.
 */

const SUMMARY_EVERY_MS = 2000;

const USAGE = `usage: node demo/collector/cli.mjs [options]
  --port <n>             port to listen on (default 8787, 0 = any free port)
  --host <name>          interface to bind (default 127.0.0.1)
  --ndjson <path>        append every stored event to this file
  --partitions <n>       feed partitions (default 4)
  --fail-rate <0..1>     fail this share of ingest requests
  --fail-status <code>   status of those failures (default 503)
  --retry-after-sec <n>  send Retry-After on failures
  --latency-ms <n>       delay every ingest reply
  --auth-key <key>       require sig = HMAC-SHA256(key, body) on every stream
  --key <stream>=<key>   the key of one stream (repeatable; overrides --auth-key there)
  --allow-origin <url>   only pages of this origin may send (repeatable; default any)
  --feed-token <token>   the feed needs Authorization: Bearer <token>
  --test-controls        serve /events, /faults, /rules, /reset (header x-outbox-test-control: 1)
  --help`;

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

/**
 * @param {string | undefined} value
 * @param {string} flag
 */
function number(value, flag) {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) fail(`${flag} needs a number, got "${value}"`);
  return parsed;
}

/**
 * @param {string | undefined} defaultKey
 * @param {string[] | undefined} streamKeys `STREAM=KEY` each
 */
function authKeys(defaultKey, streamKeys = []) {
  if (defaultKey === undefined && streamKeys.length === 0) return undefined;
  /** @type {Record<string, string>} */
  const keys = defaultKey === undefined ? {} : { '*': defaultKey };
  for (const pair of streamKeys) {
    const at = pair.indexOf('=');
    if (at < 1 || at === pair.length - 1) fail(`--key needs STREAM=KEY, got "${pair}"`);
    keys[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return keys;
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        ndjson: { type: 'string' },
        partitions: { type: 'string' },
        'fail-rate': { type: 'string' },
        'fail-status': { type: 'string' },
        'retry-after-sec': { type: 'string' },
        'latency-ms': { type: 'string' },
        'auth-key': { type: 'string' },
        key: { type: 'string', multiple: true },
        'allow-origin': { type: 'string', multiple: true },
        'feed-token': { type: 'string' },
        'test-controls': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    return fail(/** @type {Error} */ (error).message);
  }
}

const args = parseCommandLine();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

// The collector reads wire format v1 through dist/wire.js (src/wire.ts, built): say so plainly.
if (!existsSync(new URL('../../dist/wire.js', import.meta.url))) fail('dist/wire.js is missing: run `npm run build` first');
const { startCollector } = await import('./collector.mjs');

/** @type {import('./collector.mjs').Collector} */
let collector;
try {
  collector = await startCollector({
    port: number(args.port, '--port'),
    host: args.host,
    ndjsonPath: args.ndjson,
    partitions: number(args.partitions, '--partitions'),
    faults: {
      failRate: number(args['fail-rate'], '--fail-rate'),
      failStatus: number(args['fail-status'], '--fail-status'),
      retryAfterSec: number(args['retry-after-sec'], '--retry-after-sec'),
      latencyMs: number(args['latency-ms'], '--latency-ms'),
    },
    authKeys: authKeys(args['auth-key'], args.key),
    allowedOrigins: args['allow-origin'],
    feedToken: args['feed-token'],
    testControls: args['test-controls'] === true,
    quiet: false,
  });
} catch (error) {
  fail(`cannot start the collector: ${/** @type {Error} */ (error).message}`);
}

console.log(`outbox collector listening on ${collector.url}`);
console.log(`  ingest  POST ${collector.endpoint}`);
console.log(`  feed    GET  ${collector.feedUrl}?n=<partitions>&cursor0=_first`);
console.log(`  stats   GET  ${collector.url}/stats  (live: ${collector.url}/live)`);
if (args['test-controls']) console.log(`  test controls on: /events /faults /rules /reset (header x-outbox-test-control: 1)`);
const faults = Object.entries(collector.faults());
if (faults.length > 0) console.log(`  faults  ${faults.map(([key, value]) => `${key}=${value}`).join(' ')}`);

let last = collector.stats();
let lastAt = Date.now();
const summary = setInterval(() => {
  const now = Date.now();
  const stats = collector.stats();
  // Quiet while idle: a line only when something happened since the last one.
  if (stats.requests === last.requests && stats.preflights === last.preflights) return;
  const perSecond = ((stats.accepted - last.accepted) * 1000) / (now - lastAt);
  const rejected = Object.entries(stats.rejected).map(([status, count]) => `${status}×${count}`);
  console.log(
    `${new Date(now).toISOString().slice(11, 19)} ${perSecond.toFixed(1)} events/s · ${stats.accepted} stored · ` +
      `${stats.duplicates} duplicates · ${stats.requests} requests · rejected ${rejected.join(' ') || 0}`,
  );
  last = stats;
  lastAt = now;
}, SUMMARY_EVERY_MS);

/** @param {NodeJS.Signals} signal */
async function shutdown(signal) {
  clearInterval(summary);
  console.log(`${signal}: closing (${collector.stats().accepted} events stored)`);
  // A stuck socket must not keep a stopped collector alive.
  setTimeout(() => process.exit(1), 3000).unref();
  await collector.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
