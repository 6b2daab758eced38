import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { encodeBody } from '../../src/transport/encode.js';
import { prepareRequest, type Compressor } from '../../src/transport/http.js';

const options = { ...resolveOptions({ endpoint: 'http://127.0.0.1:1/v1/batch' }), now: () => 1000 };
const events = Array.from({ length: 50 }, (_, i) => {
  const json = JSON.stringify({ id: `e${i}`, name: 'click', properties: { i, text: 'some repetitive text' } });
  return { json, bytes: json.length };
});
const batch = { rid: 'r1', stream: '', events };
const plain = new TextDecoder().decode(encodeBody(events, 1000));
const platformCompressionStream = globalThis.CompressionStream;

afterEach(() => {
  globalThis.CompressionStream = platformCompressionStream;
});

describe('prepareRequest', () => {
  it('gzips above the threshold through CompressionStream and says so in the URL', async () => {
    const { url, body } = await prepareRequest(options, batch);
    expect(url).toContain('&encoding=gzip');
    expect(body.length).toBeLessThan(plain.length / 3);
    expect(gunzipSync(body).toString()).toBe(plain);
  });

  it('sends plain below the threshold and with compression none', async () => {
    for (const request of [
      await prepareRequest(options, { ...batch, events: events.slice(0, 1) }),
      await prepareRequest({ ...options, compression: 'none' }, batch),
    ]) {
      expect(request.url).not.toContain('encoding');
      expect(new TextDecoder().decode(request.body)).toContain('"events":[');
    }
  });

  it('sends plain without CompressionStream, and after it failed once does not try again (Safari 16, posthog-js#3564)', async () => {
    let constructed = 0;
    // Safari 16's stream rejects with NotReadableError on read: the same shape, reproduced here.
    globalThis.CompressionStream = class extends TransformStream<BufferSource, Uint8Array> {
      constructor() {
        constructed++;
        super({ transform: () => Promise.reject(new DOMException('The I/O read operation failed.', 'NotReadableError')) });
      }
    } as unknown as typeof CompressionStream;
    const compressor: Compressor = {};
    const first = await prepareRequest(options, batch, false, compressor);
    expect(first.url).not.toContain('encoding=gzip');
    expect(new TextDecoder().decode(first.body)).toBe(plain);
    expect(compressor.broken).toBe(true);
    const second = await prepareRequest(options, batch, false, compressor);
    expect(new TextDecoder().decode(second.body)).toBe(plain);
    expect(constructed).toBe(1);

    delete (globalThis as { CompressionStream?: unknown }).CompressionStream;
    const missing = await prepareRequest(options, batch);
    expect(missing.url).not.toContain('encoding=gzip');
    expect(new TextDecoder().decode(missing.body)).toBe(plain);
  });
});
