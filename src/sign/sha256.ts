// SHA-256 (FIPS 180-4), synchronous and portable: typed arrays and Math only, so it runs in
// browsers, workerd and Node alike, and inside a `pagehide` handler, which cannot await
// `crypto.subtle`. Small rather than fast: it ships only to pages that opt into signing.

// The constants are the first 32 bits of the fractional parts of the square roots (H0) and
// cube roots (K) of the first 8 and 64 primes (FIPS 180-4 §4.2.2, §5.3.3). Computing them
// costs fewer bytes than spelling them out; a unit test checks each against the spec's table
// and that none lies near a rounding edge, so every engine's Math yields the same words.
const H0 = new Int32Array(8);
const K = new Int32Array(64);
for (let candidate = 2, found = 0; found < 64; candidate++) {
  let prime = true;
  for (let d = 2; d * d <= candidate; d++) if (candidate % d === 0) prime = false;
  if (!prime) continue;
  if (found < 8) H0[found] = fractionBits(Math.sqrt(candidate));
  K[found++] = fractionBits(Math.cbrt(candidate));
}

function fractionBits(x: number): number {
  return ((x - Math.floor(x)) * 2 ** 32) | 0;
}

/** The SHA-256 digest of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  const length = data.length;
  // Message, then 0x80, then zeros, then the bit length in the last 64 bits (§5.1.1).
  const words = new Int32Array(((length + 8) >> 6) * 16 + 16);
  for (let i = 0; i < length; i++) words[i >> 2] |= data[i] << (24 - (i & 3) * 8);
  words[length >> 2] |= 0x80 << (24 - (length & 3) * 8);
  words[words.length - 2] = length / 2 ** 29; // the high word of length * 8 (ToInt32 truncates)
  words[words.length - 1] = length << 3;
  const hash = H0.slice();
  const w = new Int32Array(64);
  for (let block = 0; block < words.length; block += 16) {
    for (let t = 0; t < 64; t++) {
      if (t < 16) w[t] = words[block + t];
      else {
        const a = w[t - 15];
        const b = w[t - 2];
        const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
        const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
      }
    }
    let a = hash[0], b = hash[1], c = hash[2], d = hash[3], e = hash[4], f = hash[5], g = hash[6], h = hash[7];
    for (let t = 0; t < 64; t++) {
      const t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    // Int32Array stores wrap modulo 2^32, which is the addition SHA-256 wants.
    hash[0] += a;
    hash[1] += b;
    hash[2] += c;
    hash[3] += d;
    hash[4] += e;
    hash[5] += f;
    hash[6] += g;
    hash[7] += h;
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = hash[i >> 2] >>> (24 - (i & 3) * 8);
  return out;
}

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}
