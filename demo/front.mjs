// The demo's front: what the demo page talks to, in front of the durable collector. It forwards
// ingest (POST, receipts, preflights) to the collector unchanged, and adds what only a demo
// wants: injected faults (the reference collector's fault model, set by the page's buttons),
// counters from the collector's replies, and a live stream of them (GET /live).
//
// Faults and reset are a code API only (`setFaults`, `reset`): the demo's page server applies them
// for its own page, header-guarded, so no other page can switch them; the collector itself
// (outbox/collector) has none.
import { createServer } from 'node:http';
import { gunzip } from 'node:zlib';
import { decideFault, normalizeFaults } from './collector/faults.mjs';
import { handleLive } from './collector/live.mjs';
import { createStats } from './collector/stats.mjs';


/**
 * @typedef {object} DemoFrontOptions
 * @property {string} target the durable collector's base URL, e.g. http://127.0.0.1:41234
 * @property {number} [port] default 8787; 0 picks a free port
 * @property {string} [host] default '127.0.0.1'
 */

/**
 * Starts the front and resolves once it listens.
 * @param {DemoFrontOptions} options
 */
export async function startDemoFront(options) {
  const stats = createStats();
  let faults = normalizeFaults({});
  let refuseUntil = 0;
  const closing = new AbortController();
  const setFaults = (/** @type {unknown} */ next) => {
    faults = normalizeFaults(next);
    refuseUntil = faults.refuseForMs ? Date.now() + faults.refuseForMs : 0;
  };

  const server = createServer(async (req, res) => {
    const counters = stats.counters();
    if (Date.now() < refuseUntil) {
      counters.refusedConnections++;
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://front');
    try {
      if (url.pathname === '/live' && req.method === 'GET') {
        res.setHeader('Access-Control-Allow-Origin', '*');
        return handleLive(req, res, stats.snapshot, closing.signal);
      }
      if (url.pathname === '/v1/batch' && req.method === 'OPTIONS') counters.preflights++;
      if (url.pathname === '/v1/batch' && req.method === 'POST') return await ingest(req, res, url);
      await forward(req, res, url, await readAll(req, 1024 * 1024));
    } catch (error) {
      const status = error instanceof TooLarge ? 413 : 400;
      if (url.pathname === '/v1/batch') stats.reject(status);
      json(res, status, { error: status === 413 ? 'too_large' : 'bad_request', message: String(/** @type {Error} */ (error).message) }, { 'Access-Control-Allow-Origin': '*', Connection: 'close' });
    }
  });

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {URL} url
   */
  async function ingest(req, res, url) {
    const counters = stats.counters();
    counters.requests++;
    const raw = await readAll(req, 1024 * 1024);
    counters.bytesIn += raw.length;
    const fault = decideFault(faults, raw.length, Math.random);
    if (fault) {
      counters.faultsInjected++;
      stats.reject(fault.status);
      const headers = fault.retryAfterSec !== undefined ? { 'Retry-After': String(fault.retryAfterSec) } : {};
      return json(res, fault.status, { error: fault.code, message: fault.message }, { ...headers, 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Retry-After' });
    }
    const reply = await forward(req, res, url, raw, faults.latencyMs);
    if (reply.status >= 400) stats.reject(reply.status);
    else {
      const body = JSON.parse(reply.text);
      counters.duplicates += body.duplicates ?? 0;
      counters.ruled += body.ruled?.length ?? 0;
      stats.stored(body.accepted ?? 0);
      counters.bytesInflated += raw[0] === 0x1f && raw[1] === 0x8b ? await inflatedSize(raw) : raw.length;
    }
  }

  /**
   * Sends the request on to the collector and its reply back, after `delayMs` (latency fault:
   * the events are committed, only the reply is late, like a slow network).
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {URL} url
   * @param {Buffer} body
   * @param {number} [delayMs]
   */
  async function forward(req, res, url, body, delayMs = 0) {
    /** @type {Record<string, string>} */
    const headers = {};
    for (const name of ['content-type', 'content-encoding', 'origin', 'access-control-request-method', 'access-control-request-headers', 'authorization']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
    const response = await fetch(options.target + url.pathname + url.search, { method: req.method, headers, body: hasBody ? body : undefined });
    const text = await response.text();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    /** @type {Record<string, string>} */
    const out = {};
    response.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') out[name] = value;
    });
    if (!res.destroyed) {
      res.writeHead(response.status, out);
      res.end(text);
    }
    return { status: response.status, text };
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    port: address.port,
    endpoint: `${url}/v1/batch`,
    stats: () => stats.snapshot(),
    faults: () => faults,
    setFaults,
    /** Clears the counters and the faults (the durable collector keeps what it stored). */
    reset: () => (stats.reset(), setFaults({})),
    close: () =>
      new Promise((resolve) => {
        closing.abort();
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

class TooLarge extends Error {}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {number} maxBytes
 * @returns {Promise<Buffer>} rejects with TooLarge past `maxBytes`
 */
async function readAll(req, maxBytes) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBytes) throw new TooLarge(`body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** @param {Buffer} gz */
function inflatedSize(gz) {
  return new Promise((resolve) => gunzip(gz, { maxOutputLength: 8 * 1024 * 1024 }, (error, out) => resolve(error ? 0 : out.length)));
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
function json(res, status, body, headers = { 'Access-Control-Allow-Origin': '*' }) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
