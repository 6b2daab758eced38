import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHmacSigner, hmacSha256 } from '../../src/sign/hmac.js';
import { sha256 } from '../../src/sign/sha256.js';

const text = (value: string) => new TextEncoder().encode(value);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fill = (byte: number, length: number) => new Uint8Array(length).fill(byte);

describe('sha256', () => {
  // FIPS 180-4 examples (NIST CSRC "SHA-256" example values) and the long-message vector.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    [
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
    ['a'.repeat(1_000_000), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
  ])('NIST vector %#', (message, digest) => {
    expect(hex(sha256(text(message)))).toBe(digest);
  });

  it('matches node:crypto at every length around the padding boundaries (0..300 bytes)', () => {
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(length);
      expect(hex(sha256(data)), `length ${length}`).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('matches node:crypto on random inputs up to 70 KiB', () => {
    for (let i = 0; i < 40; i++) {
      const data = randomBytes(Math.floor(Math.random() * 70_000));
      expect(hex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  // sha256.ts derives its constants from square and cube roots of primes instead of spelling
  // them out. This checks the derivation against the FIPS 180-4 table, and that every value lies
  // far from a rounding edge, so an engine whose Math.cbrt is off by many ulps still gets them.
  it('derives the FIPS 180-4 constants with a wide margin from rounding edges', () => {
    const table = [
      '428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5',
      'd807aa98 12835b01 243185be 550c7dc3 72be5d74 80deb1fe 9bdc06a7 c19bf174',
      'e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da',
      '983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967',
      '27b70a85 2e1b2138 4d2c6dfc 53380d13 650a7354 766a0abb 81c2c92e 92722c85',
      'a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070',
      '19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3',
      '748f82ee 78a5636f 84c87814 8cc70208 90befffa a4506ceb bef9a3f7 c67178f2',
    ].join(' ').split(' ');
    const initial = '6a09e667 bb67ae85 3c6ef372 a54ff53a 510e527f 9b05688c 1f83d9ab 5be0cd19'.split(' ');
    const primes: number[] = [];
    for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p)) primes.push(n);
    const check = (root: number, expected: string) => {
      const scaled = (root - Math.floor(root)) * 2 ** 32;
      expect(Math.floor(scaled).toString(16).padStart(8, '0')).toBe(expected);
      const margin = Math.min(scaled - Math.floor(scaled), Math.ceil(scaled) - scaled);
      // Doubles near 2^32 resolve ~1e-6; a margin of 1e-4 tolerates ~100 ulps of error in the root.
      expect(margin).toBeGreaterThan(1e-4);
    };
    primes.forEach((p, i) => check(Math.cbrt(p), table[i]!));
    primes.slice(0, 8).forEach((p, i) => check(Math.sqrt(p), initial[i]!));
  });
});

describe('hmacSha256', () => {
  // RFC 4231 §4.2–4.8 (test case 5 is truncated to 128 bits by the RFC).
  const key131 = fill(0xaa, 131);
  it.each([
    ['1', fill(0x0b, 20), text('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['2', text('Jefe'), text('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['3', fill(0xaa, 20), fill(0xdd, 50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['4', Uint8Array.from({ length: 25 }, (_, i) => i + 1), fill(0xcd, 50), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    ['5', fill(0x0c, 20), text('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
    ['6', key131, text('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    [
      '7',
      key131,
      text('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ])('RFC 4231 test case %s', (_, key, data, mac) => {
    expect(hex(hmacSha256(key, data)).slice(0, mac.length)).toBe(mac);
  });

  it('matches node:crypto for random keys (0..200 bytes, around the 64-byte block) and bodies', () => {
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(i % 201);
      const body = randomBytes(Math.floor(Math.random() * 3000));
      expect(hex(hmacSha256(key, body))).toBe(createHmac('sha256', key).update(body).digest('hex'));
    }
  });
});

describe('createHmacSigner', () => {
  it('returns lowercase hex of HMAC-SHA256 over the exact bytes, a string key taken as UTF-8', () => {
    const sign = createHmacSigner('clé-🔑');
    for (let i = 0; i < 50; i++) {
      const body = randomBytes(Math.floor(Math.random() * 5000));
      const sig = sign(body);
      expect(sig).toMatch(/^[0-9a-f]{64}$/);
      expect(sig).toBe(createHmac('sha256', Buffer.from('clé-🔑', 'utf8')).update(body).digest('hex'));
    }
  });

  it('is synchronous: the signature is a string, not a promise', () => {
    expect(typeof createHmacSigner(new Uint8Array([1, 2, 3]))(new Uint8Array())).toBe('string');
  });

  it('gives the same signature on every call with the same key (no state carried between bodies)', () => {
    const sign = createHmacSigner('key');
    const a = text('{"events":[1]}');
    const b = text('{"events":[2]}');
    const first = sign(a);
    sign(b);
    expect(sign(a)).toBe(first);
    expect(sign(b)).not.toBe(first);
  });

  it('refuses an empty key at setup', () => {
    expect(() => createHmacSigner('')).toThrow(/\[outbox\] createHmacSigner needs a non-empty key/);
    expect(() => createHmacSigner(new Uint8Array())).toThrow(TypeError);
  });

  it('signs a 64 KiB batch body in a few milliseconds (fast enough for pagehide)', () => {
    const sign = createHmacSigner('key');
    const body = randomBytes(64 * 1024);
    sign(body); // warm up the JIT
    const started = performance.now();
    for (let i = 0; i < 10; i++) sign(body);
    const perCall = (performance.now() - started) / 10;
    expect(perCall).toBeLessThan(20);
  });
});
