import { sendError, sendJson, updateFromJsonBody } from './reply.mjs';

/**
 * Test controls over HTTP: `/events`, `/faults`, `/rules` and `/reset`, the routes that dump or
 * change the collector's state. They exist only with `testControls: true` (CLI
 * `--test-controls`), and even then only for a request carrying {@link TEST_CONTROL_HEADER}:
 * a page can send that header only in a CORS request, whose preflight these routes never pass
 * (they answer no CORS headers), and a no-cors POST cannot carry it at all (Fetch standard:
 * no-cors requests keep only CORS-safelisted headers). So no web page can reach them.
 */

/** The header every test-control request must carry, with the value `1`. */
export const TEST_CONTROL_HEADER = 'x-outbox-test-control';

/**
 * @typedef {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse,
 *   url: URL) => unknown} Handler
 * @typedef {Record<string, Record<string, Handler>>} Routes
 *
 * @typedef {object} ControlTarget what the routes act on (the collector's own code API)
 * @property {() => unknown[]} events
 * @property {() => unknown} faults
 * @property {(faults: unknown) => void} setFaults
 * @property {() => void} clearFaults
 * @property {() => unknown} rules
 * @property {(rules: unknown) => void} setRules
 * @property {() => void} reset
 */

/**
 * @param {ControlTarget} target
 * @returns {Routes}
 */
export function controlRoutes(target) {
  /** @type {Routes} */
  const routes = {
    '/events': {
      GET: (req, res, url) => {
        const since = Number(url.searchParams.get('since') ?? 0);
        if (!Number.isInteger(since) || since < 0) return sendError(res, 400, 'bad_parameter', 'since must be an index');
        const events = target.events();
        sendJson(res, 200, { total: events.length, events: events.slice(since) });
      },
    },
    '/faults': {
      GET: (req, res) => sendJson(res, 200, target.faults()),
      POST: (req, res) => updateFromJsonBody(req, res, (body) => (target.setFaults(body), target.faults())),
      DELETE: (req, res) => (target.clearFaults(), sendJson(res, 200, target.faults())),
    },
    '/rules': {
      GET: (req, res) => sendJson(res, 200, target.rules()),
      POST: (req, res) => updateFromJsonBody(req, res, (body) => (target.setRules(body), target.rules())),
    },
    '/reset': { POST: (req, res) => (target.reset(), sendJson(res, 200, { ok: true })) },
  };
  for (const methods of Object.values(routes)) {
    for (const [method, handler] of Object.entries(methods)) methods[method] = guarded(handler);
  }
  return routes;
}

/**
 * @param {Handler} handler
 * @returns {Handler}
 */
function guarded(handler) {
  return (req, res, url) => {
    if (req.headers[TEST_CONTROL_HEADER] !== '1') {
      return sendError(res, 403, 'forbidden', `test controls need the header ${TEST_CONTROL_HEADER}: 1`);
    }
    return handler(req, res, url);
  };
}
