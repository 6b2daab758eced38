import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { createGzip } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { batchBody, event, gzip, post, start } from './harness.mjs';

describe('POST /v1/batch accepts valid batches', () => {
  it('stores a plain batch in arrival order and keeps extra fields', async () => {
    const collector = await start();
    const events = [
      event({ name: 'signup', sourceId: 'device-42', properties: { plan: 'pro' } }),
      event({ stream: 'audit', release: '1.2.3' }),
    ];
    const reply = await post(collector, batchBody(events), { query: { rid: 'r1', stream: 'audit' } });

    expect(reply).toMatchObject({ status: 200, json: { accepted: 2, duplicates: 0 } });
    expect(reply.json).not.toHaveProperty('rules');
    expect(collector.events()).toEqual(events);
    expect(collector.stats()).toMatchObject({ requests: 1, accepted: 2, lastEventAt: expect.any(Number) });
  });

  it.each([
    ['encoding=gzip', { encoding: 'gzip' }, {}],
    ['sniffed magic bytes', {}, {}],
    ['Content-Encoding header', {}, { 'Content-Encoding': 'gzip' }],
  ])('inflates gzip announced by %s', async (_, query, headers) => {
    const collector = await start();
    const events = [event(), event()];
    const plain = batchBody(events);
    const compressed = gzip(plain);
    const reply = await post(collector, compressed, { query, headers });

    expect(reply).toMatchObject({ status: 200, json: { accepted: 2 } });
    expect(collector.events()).toEqual(events);
    expect(collector.stats()).toMatchObject({ bytesIn: compressed.length, bytesInflated: Buffer.byteLength(plain) });
  });

  it.each([
    ['a string', (text) => text],
    ['a typeless Blob', (text) => new Blob([text])],
    ['a text/plain Blob', (text) => new Blob([text], { type: 'text/plain' })],
    ['a Uint8Array', (text) => new TextEncoder().encode(text)],
    ['a gzip Uint8Array', (text) => new Uint8Array(gzip(text))],
  ])('accepts a beacon-style body sent as %s, whatever its content type', async (_, make) => {
    const collector = await start();
    const events = [event()];
    const response = await fetch(collector.endpoint + '?rid=beacon', { method: 'POST', body: make(batchBody(events)) });

    expect(response.status).toBe(200);
    expect(collector.events()).toEqual(events);
  });

  it('accepts an empty events array', async () => {
    const collector = await start();
    expect(await post(collector, batchBody([]))).toMatchObject({ status: 200, json: { accepted: 0 } });
  });

  it('appends each newly stored event to the ndjson file, duplicates once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'collector-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const ndjsonPath = join(dir, 'events.ndjson');
    const collector = await start({ ndjsonPath });
    const [a, b] = [event(), event({ sourceId: 's' })];
    await post(collector, batchBody([a]));
    await post(collector, batchBody([a, b]));

    const lines = readFileSync(ndjsonPath, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([a, b]);
  });

  it('test=1 validates but records nothing', async () => {
    const collector = await start();
    const reply = await post(collector, batchBody([event()]), { query: { rid: 'probe', test: '1' } });

    expect(reply).toMatchObject({ status: 200, json: { accepted: 0, duplicates: 0, test: true } });
    expect(collector.events()).toEqual([]);
    expect(collector.stats()).toMatchObject({ accepted: 0, connectionTests: 1 });
    expect((await post(collector, '{', { query: { test: '1' } })).status).toBe(400);
  });
});

describe('POST /v1/batch refuses bad input', () => {
  it.each([
    ['empty body', ''],
    ['truncated JSON', '{"events": ['],
    ['not JSON at all', 'hello'],
    ['NDJSON instead of one object', '{"events": []}\n{"events": []}'],
  ])('400 bad_json for %s', async (_, body) => {
    const collector = await start();
    const reply = await post(collector, body);
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_json', message: expect.any(String) } });
    expect(collector.stats().rejected).toEqual({ 400: 1 });
  });

  const valid = { id: 'e1', name: 'n', timestamp: 1 };
  it.each([
    ['an array body', [], /body must be a JSON object/],
    ['a null body', null, /body must be a JSON object/],
    ['missing events', { sentAt: 1 }, /events must be an array/],
    ['events as an object', { events: {} }, /events must be an array/],
    ['a non-numeric sentAt', { sentAt: 'now', events: [] }, /sentAt/],
    ['an event that is not an object', { events: ['e'] }, /events\[0\]: event must be an object/],
    ['an event without id', { events: [{ name: 'n', timestamp: 1 }] }, /events\[0\]: id/],
    ['a numeric id', { events: [{ ...valid, id: 7 }] }, /events\[0\]: id/],
    ['an id over 256 characters', { events: [{ ...valid, id: 'x'.repeat(257) }] }, /events\[0\]: id is longer/],
    ['a missing name', { events: [valid, { id: 'e2', timestamp: 1 }] }, /events\[1\]: name/],
    ['a string timestamp', { events: [{ ...valid, timestamp: '1' }] }, /events\[0\]: timestamp/],
    ['a NaN-like timestamp', { events: [{ ...valid, timestamp: null }] }, /events\[0\]: timestamp/],
    ['array properties', { events: [{ ...valid, properties: [1] }] }, /events\[0\]: properties/],
    ['null properties', { events: [{ ...valid, properties: null }] }, /events\[0\]: properties/],
    ['a numeric sourceId', { events: [{ ...valid, sourceId: 42 }] }, /events\[0\]: sourceId/],
    ['a boolean stream', { events: [{ ...valid, stream: true }] }, /events\[0\]: stream/],
  ])('400 bad_shape for %s, and nothing is stored', async (_, body, message) => {
    const collector = await start();
    const reply = await post(collector, JSON.stringify(body));
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_shape' } });
    expect(reply.json.message).toMatch(message);
    expect(collector.events()).toEqual([]);
  });

  it('413 too_large for more events than maxEvents, so the client splits the batch', async () => {
    const collector = await start({ maxEvents: 3 });
    const reply = await post(collector, batchBody([event(), event(), event(), event()]));
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(reply.json.message).toMatch(/too many events: 4/);
  });

  it('400 bad_encoding for an encoding it does not know', async () => {
    const collector = await start();
    const reply = await post(collector, batchBody([]), { query: { encoding: 'br' } });
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_encoding' } });
  });

  it.each([
    ['garbage after the magic bytes', () => Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), {}],
    ['a truncated stream', () => gzip(batchBody([event()])).subarray(0, 30), {}],
    ['plain JSON announced as gzip', () => Buffer.from(batchBody([event()])), { encoding: 'gzip' }],
  ])('400 bad_gzip for %s', async (_, make, query) => {
    const collector = await start();
    const reply = await post(collector, make(), { query });
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_gzip' } });
    expect(collector.events()).toEqual([]);
  });
});

describe('POST /v1/batch keeps memory bounded', () => {
  it('413 for a raw body over maxBodyBytes announced by Content-Length, without reading it', async () => {
    const collector = await start({ maxBodyBytes: 64 * 1024 });
    const reply = await post(collector, new Uint8Array(2 * 1024 * 1024));
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(reply.json.message).toMatch(/Content-Length/);
    expect(collector.stats().bytesIn).toBe(0);
  });

  it('413 for a chunked body once it passes maxBodyBytes, reading little more than the limit', async () => {
    const collector = await start({ maxBodyBytes: 64 * 1024 });
    let produced = 0;
    // Endless: only a collector that stops reading lets this request finish.
    const body = new ReadableStream({
      pull(controller) {
        produced += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const response = await fetch(collector.endpoint, { method: 'POST', body, duplex: 'half' });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'too_large' });
    expect(response.headers.get('connection')).toBe('close');
    expect(collector.stats().bytesIn).toBeLessThan(256 * 1024);
  });

  it('413 for a body that sends no Content-Length, written with node:http', async () => {
    const collector = await start({ maxBodyBytes: 1024 });
    const status = await new Promise((resolve, reject) => {
      const req = request(collector.endpoint, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(4096, 'x'));
    });
    expect(status).toBe(413);
  });

  it('413 for a gzip bomb, quickly and without inflating it', async () => {
    const collector = await start();
    const bomb = await gzipZeros(50 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const rssBefore = process.memoryUsage().rss;
    const startedAt = performance.now();

    const reply = await post(collector, bomb, { query: { encoding: 'gzip' } });

    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(reply.json.message).toMatch(/decompressed/);
    expect(performance.now() - startedAt).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(60 * 1024 * 1024);
    expect(collector.stats().bytesInflated).toBe(0);
  });

  it('413 when the inflated body passes maxDecompressedBytes, not before', async () => {
    const collector = await start({ maxDecompressedBytes: 1000 });
    const small = batchBody([event({ properties: { pad: 'x'.repeat(500) } })]);
    const large = batchBody([event({ properties: { pad: 'x'.repeat(2000) } })]);
    expect((await post(collector, gzip(small))).status).toBe(200);
    expect((await post(collector, gzip(large))).status).toBe(413);
  });
});

/**
 * A gzip of `size` zero bytes, written in 1 MiB pieces so the test itself never holds them.
 * @param {number} size
 * @returns {Promise<Buffer>}
 */
function gzipZeros(size) {
  return new Promise((resolve, reject) => {
    const gz = createGzip({ level: 9 });
    /** @type {Buffer[]} */
    const out = [];
    gz.on('data', (chunk) => out.push(chunk));
    gz.on('end', () => resolve(Buffer.concat(out)));
    gz.on('error', reject);
    const piece = Buffer.alloc(1024 * 1024);
    for (let written = 0; written < size; written += piece.length) gz.write(piece);
    gz.end();
  });
}
