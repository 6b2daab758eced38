#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startCollector } from './collector.mjs';

/**
 * Runs the reference collector from a terminal:
 *   node demo/collector/cli.mjs [--port 8787] [--host 127.0.0.1] [--ndjson events.ndjson]
 *     [--partitions 4] [--fail-rate 0.2 --fail-status 503 --retry-after-sec 2] [--latency-ms 300]
 *     [--auth-key secret]
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
    authKeys: args['auth-key'] ? { '*': args['auth-key'] } : undefined,
    quiet: false,
  });
} catch (error) {
  fail(`cannot start the collector: ${/** @type {Error} */ (error).message}`);
}

console.log(`outbox collector listening on ${collector.url}`);
console.log(`  ingest  POST ${collector.endpoint}`);
console.log(`  feed    GET  ${collector.feedUrl}?n=<partitions>&cursor0=_first`);
console.log(`  stats   GET  ${collector.url}/stats  (live: ${collector.url}/live)`);
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
