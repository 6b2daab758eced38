import { applyCors } from './cors.mjs';
import { sendError } from './reply.mjs';

/**
 * Routing by exact path and method. Every request ends in a reply, never in an exception: the
 * request target is untrusted (`GET //` once crashed the process: `new URL('//', base)` throws).
 *
 * @param {object} options
 * @param {import('./controls.mjs').Routes} options.routes path → method → handler
 * @param {ReadonlySet<string>} options.corsPaths the paths pages may call (CORS, no credentials)
 * @param {import('./cors.mjs').AllowedOrigins} options.allowedOrigins
 * @param {() => void} options.onPreflight told about every OPTIONS request
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => unknown}
 */
export function createRouter({ routes, corsPaths, allowedOrigins, onPreflight }) {
  return (req, res) => {
    const path = pathOf(req.url);
    if (path === undefined) return sendError(res, 400, 'bad_request', 'the request target is not a path');
    if (corsPaths.has(path)) applyCors(req, res, allowedOrigins);
    if (req.method === 'OPTIONS') {
      onPreflight();
      res.writeHead(204, { 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    const methods = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!methods) return sendError(res, 404, 'not_found', `no route ${path.slice(0, 200)}`);
    const method = req.method ?? '';
    if (!Object.hasOwn(methods, method)) {
      const allow = Object.keys(methods).join(', ');
      return sendError(res, 405, 'method_not_allowed', `${method} ${path.slice(0, 200)}: use ${allow}`, { Allow: allow });
    }
    /** @type {URL} */
    let url;
    try {
      url = new URL(`http://collector${req.url}`);
    } catch {
      return sendError(res, 400, 'bad_request', 'the request target cannot be parsed');
    }
    return methods[method](req, res, url);
  };
}

/**
 * The path of a request target in origin-form (`/a/b?q`), undefined for anything else (`*`,
 * absolute-form). `//host`-like targets are kept as paths: they are only compared, never resolved.
 * @param {string | undefined} target
 */
function pathOf(target) {
  if (typeof target !== 'string' || !target.startsWith('/')) return undefined;
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}
