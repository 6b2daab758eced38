#!/usr/bin/env node
// The durable collector on this machine: the same Worker (src/collector/worker.ts) that
// docs/collector.md deploys to Cloudflare, run in workerd through Miniflare, its Durable
// Objects' SQLite files persisted under --data. `GET /health` answers once it is ready.
//
//   npm run collector -- --port 8787 --data ./outbox-data [--partitions 4]
//                        [--key STREAM=KEY ...] [--feed-token T] [--allowed-origin O ...] [--quiet]
//
// `startLocalCollector()` is what the demo, the process test and the benchmark call.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { recordWorkerd, stopOrphanedWorkerd, workerdChildren } from './workerd-pidfile.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const workerEntry = join(root, 'src/collector/worker.ts');

/**
 * @typedef {object} LocalCollectorOptions
 * @property {string} data folder of the persisted state (created when missing)
 * @property {number} [port] default 8787; 0 picks a free port
 * @property {string} [host] default '127.0.0.1'
 * @property {number} [partitions] default 4, or what --data was created with
 * @property {Record<string, string>} [keys] HMAC keys by stream ('*': any other stream)
 * @property {string} [feedToken] bearer token of feed consumers; default a random one (printed)
 * @property {string[]} [allowedOrigins] default ['*']
 * @property {unknown[]} [rules] drop rules
 * @property {boolean} [quiet]
 */

/**
 * Bundles the Worker to one ES module with the project's rollup toolchain (as demo/worker/run.mjs
 * does): TypeScript through esbuild, `fflate` with the Workers' export conditions (never `node`).
 * @returns {Promise<string>}
 */
export async function bundleCollectorWorker() {
  const [{ rollup }, { default: esbuild }, { default: nodeResolve }] = await Promise.all([
    import('rollup'),
    import('rollup-plugin-esbuild'),
    import('@rollup/plugin-node-resolve'),
  ]);
  const bundle = await rollup({
    input: workerEntry,
    plugins: [
      nodeResolve({ browser: true, exportConditions: ['workerd', 'worker', 'browser'], extensions: ['.mjs', '.js', '.ts'] }),
      esbuild({ target: 'es2022', sourceMap: false }),
    ],
  });
  try {
    const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: true });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

/**
 * Starts the collector and resolves once `GET /health` answers.
 * @param {LocalCollectorOptions} options
 */
export async function startLocalCollector(options) {
  const data = resolve(options.data);
  mkdirSync(data, { recursive: true });
  const partitions = checkPartitions(data, options.partitions);
  await stopOrphanedWorkerd(data);
  const workerdBefore = workerdChildren();
  const feedToken = options.feedToken ?? randomBytes(16).toString('hex');
  const [{ Miniflare, Log, LogLevel }, script] = await Promise.all([import('miniflare'), bundleCollectorWorker()]);
  const mf = new Miniflare({
    name: 'outbox-collector',
    modules: [{ type: 'ESModule', path: 'collector.mjs', contents: script }],
    compatibilityDate: '2026-04-01',
    durableObjects: { OUTBOX_PARTITIONS: { className: 'CollectorPartition', useSQLite: true } },
    durableObjectsPersist: join(data, 'durable-objects'),
    bindings: {
      OUTBOX_PARTITION_COUNT: String(partitions),
      OUTBOX_KEYS: JSON.stringify(options.keys ?? {}),
      OUTBOX_FEED_TOKEN: feedToken,
      OUTBOX_ALLOWED_ORIGINS: (options.allowedOrigins ?? ['*']).join(','),
      OUTBOX_RULES: JSON.stringify(options.rules ?? []),
    },
    // No request for Cloudflare's cf object (no network here).
    cf: false,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8787,
    log: options.quiet ? undefined : new Log(LogLevel.WARN),
  });
  const url = (await mf.ready).href.replace(/\/$/, '');
  recordWorkerd(data, workerdBefore);
  await waitForHealth(url);
  return {
    url,
    endpoint: `${url}/v1/batch`,
    feedUrl: `${url}/feed/v1`,
    feedToken,
    partitions,
    /** Stops workerd; what was committed stays in --data. */
    close: () => mf.dispose(),
  };
}

/**
 * The partition count is part of the data: a source's partition depends on it, so a restart
 * with another count would split one source's order. Stored in --data at first start.
 * @param {string} data
 * @param {number | undefined} wanted
 */
function checkPartitions(data, wanted) {
  const file = join(data, 'collector.json');
  const stored = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).partitions : undefined;
  if (stored !== undefined && wanted !== undefined && stored !== wanted) {
    throw new Error(`[collector] ${data} holds a feed of ${stored} partitions, not ${wanted}: use another --data to change the count`);
  }
  const partitions = stored ?? wanted ?? 4;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 256) throw new Error(`[collector] --partitions must be 1..256, got ${partitions}`);
  if (stored === undefined) writeFileSync(file, JSON.stringify({ partitions }) + '\n');
  return partitions;
}

/** @param {string} url */
async function waitForHealth(url) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`[collector] ${url}/health did not answer within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const USAGE = `usage: npm run collector -- [options]
  --port <n>             port (default 8787, 0 = any free port)
  --host <name>          interface (default 127.0.0.1)
  --data <dir>           where the events are kept (default ./outbox-data)
  --partitions <n>       partitions of a new --data (default 4)
  --key STREAM=KEY       HMAC key of a stream ('*=KEY' for every other stream); repeatable
  --feed-token <t>       bearer token of feed consumers (default: a random one, printed)
  --allowed-origin <o>   origin whose pages may send (default any); repeatable
  --quiet                print only the ready line
  --help`;

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string', default: './outbox-data' },
        partitions: { type: 'string' },
        key: { type: 'string', multiple: true },
        'feed-token': { type: 'string' },
        'allowed-origin': { type: 'string', multiple: true },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${/** @type {Error} */ (error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) return console.log(USAGE);
  /** @type {Record<string, string>} */
  const keys = {};
  for (const pair of values.key ?? []) {
    const at = pair.indexOf('=');
    if (at < 1 || at === pair.length - 1) {
      console.error(`--key needs STREAM=KEY, got "${pair}"\n\n${USAGE}`);
      process.exit(2);
    }
    keys[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const port = Number(values.port);
  const partitions = values.partitions === undefined ? undefined : Number(values.partitions);
  const collector = await startLocalCollector({
    port,
    host: values.host,
    data: values.data,
    partitions,
    keys,
    feedToken: values['feed-token'],
    allowedOrigins: values['allowed-origin'],
    quiet: values.quiet,
  });
  console.log(`[collector] ready ${collector.url} (ingest ${collector.endpoint}, feed ${collector.feedUrl}, ${collector.partitions} partitions, data ${resolve(values.data)})`);
  if (!values['feed-token']) console.log(`[collector] feed token (random, this run only): ${collector.feedToken}`);
  const stop = async () => {
    await collector.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
