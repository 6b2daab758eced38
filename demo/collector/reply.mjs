import { readBody } from './body.mjs';

/** JSON replies shared by every route (CORS is decided per route: see cors.mjs). */

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * Errors are `{"error": code, "message": ...}` so clients can branch on a stable code.
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 */
export function sendError(res, status, code, message, headers) {
  sendJson(res, status, { error: code, message }, headers);
}

const JSON_BODY_LIMIT = 64 * 1024;

/**
 * For the settings routes (POST /faults, /rules): read a small JSON body, hand it to `apply`,
 * answer what it returns. A TypeError from `apply` is the caller's bad input, so a 400.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {(body: unknown) => unknown} apply
 */
export async function updateFromJsonBody(req, res, apply) {
  const read = await readBody(req, JSON_BODY_LIMIT);
  if (read.kind === 'aborted') return;
  if (read.kind === 'too_large') return sendError(res, 413, 'too_large', read.message);
  let body;
  try {
    body = JSON.parse(read.body.toString('utf8'));
  } catch (error) {
    return sendError(res, 400, 'bad_json', `body is not valid JSON: ${/** @type {Error} */ (error).message}`);
  }
  try {
    sendJson(res, 200, apply(body));
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    sendError(res, 400, 'bad_shape', error.message);
  }
}
