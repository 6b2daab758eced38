// `npm run demo` (after `npm run build`): the reference collector, the live demo page (another
// port, so the page's requests are cross-origin, as in production) and, when demo/worker/run.mjs
// exists, the Worker demo. Prints the URLs, then a running summary of what the collector received.
//
//   COLLECTOR_PORT=8787 DEMO_PORT=8788 WORKER_PORT=8789 node demo/run.mjs
//
// `startDemo()` is what test/browser/demo.test.ts starts (on free ports, without the Worker).
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCollector } from './collector/collector.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const workerDemo = fileURLToPath(new URL('./worker/run.mjs', import.meta.url));
const SUMMARY_EVERY_MS = 2000;

/** Only these folders are served: the page itself and the built bundle. */
const SERVED = ['/demo/web/', '/dist/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * @typedef {object} DemoOptions
 * @property {number} [collectorPort] default 8787; 0 picks a free port
 * @property {number} [pagePort] default 8788
 * @property {number} [workerPort] default 8789
 * @property {boolean} [worker] start the Worker demo when demo/worker/run.mjs exists (default true)
 * @property {boolean} [quiet] print nothing
 */

/**
 * Starts the collector, the page server and (optionally) the Worker demo.
 * @param {DemoOptions} [options]
 */
export async function startDemo(options = {}) {
  const log = options.quiet ? () => {} : console.log;
  const collector = await startCollector({ port: options.collectorPort ?? 8787, quiet: options.quiet ?? true });
  let pages;
  try {
    pages = await startPageServer(options.pagePort ?? 8788, collector);
  } catch (error) {
    await collector.close();
    throw error;
  }
  const pageUrl = `${pages.url}/demo/web/?collector=${collector.url}`;

  /** @type {{ url: string, close(): Promise<void> } | undefined} */
  let worker;
  if ((options.worker ?? true) && existsSync(workerDemo)) {
    try {
      const { startWorkerDemo } = await import(pathToFileURL(workerDemo).href);
      worker = await startWorkerDemo({ collectorEndpoint: collector.endpoint, port: options.workerPort ?? 8789, quiet: options.quiet });
    } catch (error) {
      log(`[demo] the Worker demo did not start: ${/** @type {Error} */ (error).message}`);
    }
  }

  log('');
  log('outbox demo');
  log(`  page       ${pageUrl}`);
  log(`  collector  ${collector.endpoint}   (stats ${collector.url}/stats, live ${collector.url}/live)`);
  if (worker) log(`  worker     ${worker.url}`);
  log('');

  return {
    collector,
    pageUrl,
    worker,
    async close() {
      await Promise.all([pages.close(), collector.close(), worker?.close()]);
    },
  };
}

/**
 * The demo page's fault and reset buttons, applied through the collector's code API.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {string} action
 * @param {import('./collector/collector.mjs').Collector} collector
 */
async function control(req, res, action, collector) {
  const reply = (status, body) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  if (req.method !== 'POST' || req.headers['x-outbox-test-control'] !== '1') return reply(403, { error: 'forbidden' });
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65_536) return reply(413, { error: 'too_large' });
  }
  try {
    if (action === 'faults') return reply(200, (collector.setFaults(JSON.parse(text || '{}')), collector.faults()));
    if (action === 'reset') return reply(200, (collector.reset(), { ok: true }));
    return reply(404, { error: 'not_found' });
  } catch (error) {
    return reply(400, { error: 'bad_request', message: String(/** @type {Error} */ (error).message) });
  }
}

/**
 * Serves the demo page and the built bundle, read-only. `/` redirects to the page, with the
 * collector's address in the query (the page reads it from there). The page's fault buttons
 * POST to `/demo/controls/{faults,reset}` here, on its own origin: the collector serves no test
 * controls to pages, and these need the header `x-outbox-test-control: 1`, which a page of
 * another origin could only send after a preflight this server never answers.
 * @param {number} port
 * @param {import('./collector/collector.mjs').Collector} collector
 */
async function startPageServer(port, collector) {
  const collectorUrl = collector.url;
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return res.writeHead(400).end('bad request');
    }
    if (path.startsWith('/demo/controls/')) return control(req, res, path.slice('/demo/controls/'.length), collector);
    if (path === '/' || path === '/demo/web') {
      res.writeHead(302, { Location: `/demo/web/?collector=${collectorUrl}` });
      return res.end();
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const allowed = SERVED.some((folder) => file.startsWith(join(root, folder)));
    if (!allowed) return res.writeHead(404).end('not found');
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[/** @type {keyof TYPES} */ (extname(file))] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end(path.startsWith('/dist/') ? 'not built: run `npm run build`' : 'not found');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve(undefined)))),
  };
}

/**
 * One line every two seconds while traffic changes: what arrived, at what rate, and what went wrong.
 * @param {Awaited<ReturnType<typeof startCollector>>} collector
 */
function printSummaries(collector) {
  let last = collector.stats();
  let lastAt = Date.now();
  const timer = setInterval(() => {
    const now = collector.stats();
    const at = Date.now();
    if (now.requests === last.requests && now.refusedConnections === last.refusedConnections) return;
    const rate = Math.round(((now.accepted - last.accepted) * 1000) / (at - lastAt));
    const rejected = Object.entries(now.rejected).map(([status, count]) => `${status}×${count}`).join(' ') || 'none';
    const faults = Object.entries(collector.faults()).map(([key, value]) => `${key}=${value}`).join(' ');
    console.log(
      `[${new Date(at).toLocaleTimeString()}] accepted ${now.accepted} (+${rate}/s) · duplicates ${now.duplicates} · requests ${now.requests}` +
        ` · rejected ${rejected} · refused ${now.refusedConnections} · preflights ${now.preflights}${faults ? ` · faults ${faults}` : ''}`,
    );
    last = now;
    lastAt = at;
  }, SUMMARY_EVERY_MS);
  return () => clearInterval(timer);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = (/** @type {string} */ name, /** @type {number} */ fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
  let demo;
  try {
    demo = await startDemo({ collectorPort: port('COLLECTOR_PORT', 8787), pagePort: port('DEMO_PORT', 8788), workerPort: port('WORKER_PORT', 8789) });
  } catch (error) {
    const message = /** @type {Error} */ (error).message;
    console.error(`[demo] cannot start: ${message}${message.includes('EADDRINUSE') ? ' (set COLLECTOR_PORT, DEMO_PORT or WORKER_PORT to other ports)' : ''}`);
    process.exit(1);
  }
  console.log('Open the page, send a burst, break the collector, and watch everything arrive. Ctrl-C stops.');
  const stopSummaries = printSummaries(demo.collector);
  const stop = () => {
    stopSummaries();
    demo.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
