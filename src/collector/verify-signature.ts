/** HMAC keys by stream name; `'*'` is the key of requests that name no stream or a stream without its own. */
export type StreamKeys = Readonly<Record<string, string>>;

const encoder = new TextEncoder();

/**
 * Checks `sig` (lowercase hex HMAC-SHA256 of the exact body bytes, as `createHmacSigner` makes it)
 * with Web Crypto, whose `verify` compares in constant time. Imported keys are kept per key.
 */
export function createSignatureVerifier(): (key: string, body: Uint8Array, sig: string | null) => Promise<boolean> {
  const imported = new Map<string, Promise<CryptoKey>>();
  return async (key, body, sig) => {
    if (sig === null || !/^[0-9a-f]{64}$/.test(sig)) return false;
    let cryptoKey = imported.get(key);
    if (!cryptoKey) {
      cryptoKey = crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      imported.set(key, cryptoKey);
    }
    const signature = new Uint8Array(32);
    for (let i = 0; i < 32; i++) signature[i] = parseInt(sig.slice(i * 2, i * 2 + 2), 16);
    return crypto.subtle.verify('HMAC', await cryptoKey, signature, body as Uint8Array<ArrayBuffer>);
  };
}

/**
 * The key a request whose events are all in `stream` must be signed with, or `undefined` when
 * it needs none. Only called once every event of the batch is known to be in `stream`, so a
 * page's key never signs events of another stream.
 */
export function keyForStream(keys: StreamKeys, stream: string | undefined): string | undefined {
  const own = stream !== undefined && Object.hasOwn(keys, stream) ? keys[stream] : undefined;
  return own ?? (Object.hasOwn(keys, '*') ? keys['*'] : undefined);
}
