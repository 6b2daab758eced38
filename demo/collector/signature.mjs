import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signatures: `sig` = lowercase hex HMAC-SHA256(key, raw body bytes as sent).
 * Signing the bytes on the wire (the gzip bytes when compressed) lets the collector reject
 * an unsigned request before it spends any work inflating it.
 *
 * @typedef {Map<string, string | Uint8Array>} AuthKeys stream name, or '*' for every stream, to key
 */

/**
 * @param {unknown} input `{ [stream]: key }`, `'*'` being the default; null/undefined = no auth
 * @returns {AuthKeys}
 */
export function normalizeAuthKeys(input) {
  if (input === undefined || input === null) return new Map();
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError('[collector] authKeys must be an object of stream name to key');
  }
  // A Map, not the object: a stream named "constructor" must not find Object.prototype's.
  const keys = new Map();
  for (const [stream, key] of Object.entries(input)) {
    if (!(typeof key === 'string' || key instanceof Uint8Array) || key.length === 0) {
      throw new TypeError(`[collector] authKeys["${stream}"] must be a non-empty string or Uint8Array`);
    }
    keys.set(stream, key);
  }
  return keys;
}

/**
 * The key a request on `stream` must be signed with, or undefined when it needs no signature.
 * @param {AuthKeys} keys
 * @param {string | undefined} stream
 */
export function keyForStream(keys, stream) {
  return (stream !== undefined ? keys.get(stream) : undefined) ?? keys.get('*');
}

/**
 * @param {string | Uint8Array} key
 * @param {Uint8Array} body
 */
export function signBody(key, body) {
  return createHmac('sha256', key).update(body).digest('hex');
}

/**
 * @param {string | Uint8Array} key
 * @param {Uint8Array} body
 * @param {string | null | undefined} signature hex from the `sig` query parameter
 */
export function verifySignature(key, body, signature) {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = createHmac('sha256', key).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
