// Runs the Worker demo in workerd through Miniflare, lighter than `wrangler dev`: bundles
// demo/worker/src/index.ts with rollup (the project's own devDependencies) and reads bindings,
// vars and the compatibility date from wrangler.jsonc, so that file stays the one description.
//
//   node demo/worker/run.mjs [--collector http://127.0.0.1:8080/v1/batch] [--port 8788]
//                            [--delivery http|queue] [--quiet]
//
// `startWorkerDemo()` is what `npm run demo` and the Workers tests call.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const configPath = resolve(here, 'wrangler.jsonc');

/**
 * @typedef {object} WorkerDemoOptions
 * @property {string} [collectorEndpoint] overrides the COLLECTOR_ENDPOINT var of wrangler.jsonc
 * @property {number} [port] 0 picks a free port; default 8788
 * @property {string} [host] default '127.0.0.1'
 * @property {'http' | 'queue'} [delivery] overrides the DELIVERY var
 * @property {boolean} [quiet] print nothing: neither the URL nor a line per request
 */

/**
 * Starts the demo Worker and resolves once it listens.
 * @param {WorkerDemoOptions} [options]
 */
export async function startWorkerDemo(options = {}) {
  const config = parseJsonc(await readFile(configPath, 'utf8'));
  const [{ Miniflare, Log, LogLevel }, script] = await Promise.all([import('miniflare'), bundleWorker(config)]);
  const vars = { ...config.vars };
  if (options.collectorEndpoint) vars.COLLECTOR_ENDPOINT = options.collectorEndpoint;
  if (options.delivery) vars.DELIVERY = options.delivery;
  const mf = new Miniflare({
    name: config.name,
    modules: [{ type: 'ESModule', path: 'worker.mjs', contents: script }],
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    bindings: vars,
    kvNamespaces: Object.fromEntries((config.kv_namespaces ?? []).map((ns) => [ns.binding, ns.id])),
    queueProducers: Object.fromEntries((config.queues?.producers ?? []).map((p) => [p.binding, { queueName: p.queue }])),
    queueConsumers: Object.fromEntries(
      (config.queues?.consumers ?? []).map((c) => [c.queue, { maxBatchSize: c.max_batch_size, maxBatchTimeout: c.max_batch_timeout, maxRetries: c.max_retries }]),
    ),
    // No request for Cloudflare's cf object (no network here): a placeholder is used.
    cf: false,
    // Run the cron handler on demand: GET /cdn-cgi/handler/scheduled (as `wrangler dev --test-scheduled`).
    unsafeTriggerHandlers: true,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8788,
    log: options.quiet ? undefined : new Log(LogLevel.INFO),
  });
  const url = (await mf.ready).href;
  if (!options.quiet) console.log(`[worker demo] ${url} (page_view → ${vars.COLLECTOR_ENDPOINT}, delivery: ${vars.DELIVERY})`);
  return {
    url,
    /** Runs the `scheduled` handler once, as a cron trigger would: drains the KV spill-over. */
    async scheduled() {
      const worker = await mf.getWorker();
      await worker.scheduled({ cron: config.triggers?.crons?.[0] ?? '* * * * *' });
    },
    /** Stops workerd; safe to call twice. */
    close: () => mf.dispose(),
  };
}

/**
 * Bundles the demo Worker to one ES module: `outbox/...` from the aliases of wrangler.jsonc (the
 * sources), fflate from node_modules with Workers' export conditions (never `node`).
 * @param {{ main: string, alias?: Record<string, string> }} config
 */
async function bundleWorker(config) {
  const [{ rollup }, { default: esbuild }, { default: nodeResolve }] = await Promise.all([
    import('rollup'),
    import('rollup-plugin-esbuild'),
    import('@rollup/plugin-node-resolve'),
  ]);
  const alias = Object.fromEntries(Object.entries(config.alias ?? {}).map(([name, path]) => [name, resolve(here, path)]));
  const bundle = await rollup({
    input: resolve(here, config.main),
    plugins: [
      { name: 'wrangler-alias', resolveId: (id) => alias[id] ?? null },
      nodeResolve({ browser: true, exportConditions: ['workerd', 'worker', 'browser'], extensions: ['.mjs', '.js', '.ts'] }),
      esbuild({ target: 'es2022', sourceMap: false }),
    ],
    onwarn(warning, warn) {
      if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
    },
  });
  try {
    const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: true });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

/** JSON with comments (wrangler.jsonc): strips `//` and block comments outside strings. */
function parseJsonc(text) {
  return JSON.parse(text.replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (match, string) => string ?? ''));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { collector: { type: 'string' }, port: { type: 'string' }, delivery: { type: 'string' }, quiet: { type: 'boolean' } },
  });
  const demo = await startWorkerDemo({
    collectorEndpoint: values.collector,
    port: values.port === undefined ? undefined : Number(values.port),
    delivery: /** @type {'http' | 'queue' | undefined} */ (values.delivery),
    quiet: values.quiet,
  });
  if (values.quiet) console.log(`[worker demo] ${demo.url}`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
