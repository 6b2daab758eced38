import type { Signer } from '../options.js';
import { sha256 } from './sha256.js';

const blockBytes = 64;

/**
 * HMAC-SHA256 (RFC 2104) of `message` under `key`, computed synchronously. A string key is
 * taken as its UTF-8 bytes, as ironSource atom does (`auth_key.encode("utf-8")`).
 */
export function hmacSha256(key: string | Uint8Array, message: Uint8Array): Uint8Array {
  return createMac(key)(message);
}

/**
 * A {@link Signer} for the tracker's `signer` option (or a stream's): lowercase hex
 * HMAC-SHA256 of the exact body bytes, which the tracker sends as `&sig=` in the URL, so it also
 * rides on a beacon. Synchronous, because the unload path cannot await `crypto.subtle`.
 *
 * A key in a web page is readable by anyone: the signature then proves the body was not altered
 * on the way, not who sent it (docs/seeds.md, "Signed requests").
 */
export function createHmacSigner(key: string | Uint8Array): Signer {
  if (!key?.length) {
    throw new TypeError('[outbox] createHmacSigner needs a non-empty key (string or Uint8Array)');
  }
  const mac = createMac(key);
  return (body) => {
    let hex = '';
    for (const byte of mac(body)) hex += (byte < 16 ? '0' : '') + byte.toString(16);
    return hex;
  };
}

// The padded key is derived once per key; each call hashes (K ^ ipad) || m, then (K ^ opad) || inner.
function createMac(key: string | Uint8Array): (message: Uint8Array) => Uint8Array {
  let bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  if (bytes.length > blockBytes) bytes = sha256(bytes);
  const inner = new Uint8Array(blockBytes);
  const outer = new Uint8Array(blockBytes + 32);
  for (let i = 0; i < blockBytes; i++) {
    inner[i] = (bytes[i] ?? 0) ^ 0x36;
    outer[i] = (bytes[i] ?? 0) ^ 0x5c;
  }
  return (message) => {
    const first = new Uint8Array(blockBytes + message.length);
    first.set(inner);
    first.set(message, blockBytes);
    const second = outer.slice();
    second.set(sha256(first), blockBytes);
    return sha256(second);
  };
}
