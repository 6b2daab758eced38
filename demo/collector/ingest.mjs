import { idProblem, streamProblem } from '../../dist/wire.js';
import { parseBatch } from './batch.mjs';
import { discardRest, gunzipLimited, isGzip, readBody } from './body.mjs';
import { decideFault } from './faults.mjs';
import { sendJson } from './reply.mjs';
import { keyForStream, verifySignature } from './signature.mjs';

/**
 * POST /v1/batch, wire format v1. The order of the checks is the cost order a real edge would
 * use: size limits, then injected faults, then the signature over the raw bytes, and only then
 * inflating, the depth scan and parsing, so an unauthenticated gzip bomb is never inflated.
 * The key is the URL stream's, and every event must be in that stream (batch.mjs).
 *
 * @typedef {object} IngestContext
 * @property {{ maxBodyBytes: number, maxDecompressedBytes: number, maxEvents: number }} limits
 * @property {import('./stats.mjs').Stats} stats
 * @property {import('./store.mjs').EventStore} store
 * @property {() => Readonly<import('./faults.mjs').Faults>} faults
 * @property {() => import('./signature.mjs').AuthKeys} authKeys
 * @property {() => readonly import('./rules.mjs').DropRule[]} rules
 * @property {(ms: number) => Promise<void>} delay cut short when the collector closes
 *
 * @typedef {{ status: number, body: unknown, headers?: Record<string, string> }} Reply
 */

const KNOWN_ENCODINGS = new Set(['gzip', 'identity', 'none']);

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {IngestContext} ctx
 */
export async function handleIngest(req, res, url, ctx) {
  const counters = ctx.stats.counters();
  counters.requests++;
  const read = await readBody(req, ctx.limits.maxBodyBytes, (bytes) => {
    counters.bytesIn += bytes;
  });
  if (read.kind === 'aborted') return;
  const reply =
    read.kind === 'too_large' ? error(413, 'too_large', read.message) : await decide(read.body, url, req, ctx);

  // Latency goes after the decision: like a real server whose reply is slow, the events are
  // already stored if the client gives up waiting, and de-duplication absorbs its retry.
  const { latencyMs = 0 } = ctx.faults();
  if (latencyMs > 0) await ctx.delay(latencyMs);

  if (read.kind === 'too_large') discardRest(req, res);
  if (reply.status >= 400) ctx.stats.reject(reply.status);
  sendJson(res, reply.status, reply.body, reply.headers);
}

/**
 * @param {Buffer} raw
 * @param {URL} url
 * @param {import('node:http').IncomingMessage} req
 * @param {IngestContext} ctx
 * @returns {Promise<Reply>}
 */
async function decide(raw, url, req, ctx) {
  const counters = ctx.stats.counters();
  const params = url.searchParams;

  const fault = decideFault(ctx.faults(), raw.length, Math.random);
  if (fault) {
    counters.faultsInjected++;
    const headers = fault.retryAfterSec !== undefined ? { 'Retry-After': String(fault.retryAfterSec) } : undefined;
    return error(fault.status, fault.code, fault.message, headers);
  }

  const stream = params.get('stream') ?? undefined;
  const badStream = streamProblem(stream);
  if (badStream) return error(400, 'bad_parameter', `the stream parameter: ${badStream}`);
  const rid = params.get('rid');
  // The receipt window keeps rids in memory: the same bounds as event ids.
  const badRid = rid === null ? undefined : idProblem(rid);
  if (badRid) return error(400, 'bad_parameter', `the rid parameter: ${badRid.replace(/^id/, 'rid')}`);
  const key = keyForStream(ctx.authKeys(), stream);
  if (key !== undefined && !verifySignature(key, raw, params.get('sig'))) {
    counters.signatureFailures++;
    const which = stream === undefined ? 'the default key' : `the key of stream "${stream}"`;
    const message = params.has('sig') ? `sig does not match ${which}` : `sig is missing; requests need ${which}`;
    return error(401, 'bad_signature', message);
  }

  const encoding = params.get('encoding') ?? headerEncoding(req);
  if (encoding !== undefined && !KNOWN_ENCODINGS.has(encoding)) {
    return error(400, 'bad_encoding', `unsupported encoding "${encoding}"; use gzip or none`);
  }
  let body = raw;
  // Sniffing is safe: a JSON text can never start with byte 0x1f.
  if (encoding === 'gzip' || isGzip(raw)) {
    const inflated = await gunzipLimited(raw, ctx.limits.maxDecompressedBytes);
    if (inflated.kind === 'too_large') return error(413, 'too_large', inflated.message);
    if (inflated.kind === 'bad_gzip') return error(400, 'bad_gzip', inflated.message);
    body = inflated.body;
  }
  counters.bytesInflated += body.length;

  const parsed = parseBatch(body, ctx.limits.maxEvents, stream);
  if (!parsed.ok) return error(parsed.status, parsed.code, parsed.message);

  const test = params.get('test');
  if (test === '1' || test === 'true') {
    counters.connectionTests++;
    return { status: 200, body: { accepted: 0, duplicates: 0, test: true } };
  }

  const result = ctx.store.record(parsed.batch.events, ctx.rules(), stream);
  if (rid && ctx.store.isDuplicateRequest(rid)) counters.duplicateRequests++;
  if (rid) ctx.store.noteRuled(rid, result.ruledIds);
  counters.duplicates += result.duplicates;
  counters.ruled += result.ruled;
  ctx.stats.stored(result.accepted);
  const { accepted, duplicates, ruledIds, matchedRules } = result;
  /** @type {import('../../dist/wire.js').BatchReply} */
  const reply = ruledIds.length > 0 ? { accepted, duplicates, ruled: ruledIds, rules: matchedRules } : { accepted, duplicates };
  return { status: 200, body: reply };
}

/**
 * `GET /v1/batch?receipt=<rid>`: whether a request with that rid was committed, within the
 * request id window (the last `dedupeWindow.requests` committed requests), and which of its
 * events the rules dropped (`ruled`, absent when none). A page asks this about the unload request
 * of the page before instead of sending its events again.
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {import('./store.mjs').EventStore} store
 */
export function handleReceipt(res, url, store) {
  const rid = url.searchParams.get('receipt');
  if (rid === null) return sendJson(res, 400, { error: 'bad_parameter', message: 'GET on the ingest path needs ?receipt=<rid>' });
  const problem = idProblem(rid);
  if (problem) return sendJson(res, 400, { error: 'bad_parameter', message: `receipt: ${problem.replace(/^id/, 'rid')}` });
  const received = store.wasCommitted(rid);
  const ruled = received ? store.ruledOf(rid) : undefined;
  /** @type {import('../../dist/wire.js').ReceiptReply} */
  const reply = ruled ? { rid, received, ruled } : { rid, received };
  sendJson(res, 200, reply);
}

/**
 * `Content-Encoding` is honoured too, for server-side senders that do not mind a preflight.
 * @param {import('node:http').IncomingMessage} req
 */
function headerEncoding(req) {
  const value = req.headers['content-encoding']?.trim().toLowerCase();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 * @returns {Reply}
 */
function error(status, code, message, headers) {
  return { status, body: { error: code, message }, headers };
}
