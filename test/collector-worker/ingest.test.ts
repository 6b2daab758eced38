// outbox/collector ingest in workerd: wire v1, per-event replies, receipts, and every hostile
// input of the reference collector's suite (test/collector/*.test.mjs), on Web APIs.
import { abortAllDurableObjects, reset } from 'cloudflare:test';
import { Gzip } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHmacSigner } from '../../src/sign/hmac.js';
import { maxBatchEvents } from '../../src/wire.js';
import { batchBody, collector, event, gzip, post, readAll } from './harness.js';

beforeEach(async () => {
  await reset(); // every test starts from empty partitions
});

describe('ingest stores and answers per event', () => {
  it('stores a batch, answers accepted and duplicates, and the feed serves the events as tracked', async () => {
    const call = collector();
    const a = event({ sourceId: 'u1', properties: { plan: 'pro' } });
    const b: Record<string, unknown> = event({ sourceId: 'u2', extra: 'dropped' });
    const reply = await post(call, batchBody([a, b, a]), { rid: 'r1' });
    expect(reply).toMatchObject({ status: 200, json: { accepted: 2, duplicates: 1 } });
    expect(reply.json).not.toHaveProperty('ruled');

    const { events } = await readAll(call);
    const { extra: _, ...bAsTracked } = b;
    expect(events.map((e) => e.data).sort((x, y) => String(x!.id).localeCompare(String(y!.id)))).toEqual([a, bAsTracked]);
  });

  it('accepts an empty events array', async () => {
    expect(await post(collector(), batchBody([]))).toMatchObject({ status: 200, json: { accepted: 0, duplicates: 0 } });
  });

  it('test=1 validates (and checks the signature) but stores nothing', async () => {
    const call = collector({ keys: { '*': 'k' } });
    const body = batchBody([event()]);
    const sig = createHmacSigner('k')(new TextEncoder().encode(body));
    expect(await post(call, body, { test: '1', sig })).toMatchObject({ status: 200, json: { accepted: 0, test: true } });
    expect((await post(call, body, { test: '1' })).status).toBe(401);
    expect((await post(call, '{', { test: '1', sig: createHmacSigner('k')(new TextEncoder().encode('{')) })).status).toBe(400);
    expect((await readAll(call)).events).toEqual([]);
  });

  it('answers ruled ids and the matching rules; a duplicate of an event stored before the rule reads as a duplicate', async () => {
    const stored = event({ name: 'debug' });
    expect((await post(collector(), batchBody([stored]))).json).toMatchObject({ accepted: 1 });
    const rules = [{ name: 'debug', ttlMs: 60_000 }, { stream: 'never', ttlMs: 1 }];
    const call = collector({ rules });
    const dropped = event({ name: 'debug' });
    const kept = event({ name: 'click' });
    const reply = await post(call, batchBody([stored, dropped, kept]));
    expect(reply.json).toEqual({ accepted: 1, duplicates: 1, ruled: [dropped.id], rules: [rules[0]] });
    expect((await readAll(call)).events.map((e) => e.data!.id).sort()).toEqual([stored.id, kept.id].sort());
  });

  it('GET ?receipt=<rid> says whether a request with that rid was committed, across a restart', async () => {
    const call = collector();
    await post(call, batchBody([event()]), { rid: 'batch-1' });
    await abortAllDurableObjects();
    const receipt = async (rid: string) => (await call(`/v1/batch?receipt=${rid}`)).json();
    expect(await receipt('batch-1')).toEqual({ rid: 'batch-1', received: true });
    expect(await receipt('batch-2')).toEqual({ rid: 'batch-2', received: false });
    expect((await call('/v1/batch?receipt=')).status).toBe(400);
    expect((await call(`/v1/batch?receipt=${'x'.repeat(300)}`)).status).toBe(400);
  });

  it('a receipt covers a request over many partitions, and an empty one', async () => {
    const call = collector({ partitionCount: 16 });
    await post(call, batchBody(Array.from({ length: 40 }, (_, i) => event({ sourceId: `s${i}` }))), { rid: 'wide' });
    await post(call, batchBody([]), { rid: 'empty' });
    for (const rid of ['wide', 'empty']) expect(await (await call(`/v1/batch?receipt=${rid}`)).json()).toEqual({ rid, received: true });
  });

  it('a receipt lists the ids the rules dropped, in one partition or many (wire.ts ReceiptReply.ruled)', async () => {
    const call = collector({ partitionCount: 16, rules: [{ name: 'debug', ttlMs: 60_000 }] });
    const narrow = [event({ name: 'debug', sourceId: 'u1' }), event({ sourceId: 'u1' })];
    const wide = Array.from({ length: 40 }, (_, i) => event({ name: i % 10 === 3 ? 'debug' : 'click', sourceId: `s${i}` }));
    expect((await post(call, batchBody(narrow), { rid: 'narrow' })).json).toMatchObject({ ruled: [narrow[0]!.id] });
    expect((await post(call, batchBody(wide), { rid: 'wide' })).json).toMatchObject({ accepted: 36 });
    await abortAllDurableObjects();
    const receipt = async (rid: string) => (await call(`/v1/batch?receipt=${rid}`)).json() as Promise<{ ruled?: string[] }>;
    expect(await receipt('narrow')).toEqual({ rid: 'narrow', received: true, ruled: [narrow[0]!.id] });
    const ruledWide = wide.filter((e) => e.name === 'debug').map((e) => e.id);
    expect((await receipt('wide')).ruled?.sort()).toEqual(ruledWide.sort());
  });

  it('keeps receipts bounded: past maxReceipts a partition forgets the oldest', async () => {
    let now = 1_000_000;
    const call = collector({ partitionCount: 1, maxReceipts: 50, now: () => ++now });
    for (let i = 0; i < 250; i++) expect((await post(call, batchBody([]), { rid: `r${i}` })).status).toBe(200);
    const received = async (rid: string) => ((await (await call(`/v1/batch?receipt=${rid}`)).json()) as { received: boolean }).received;
    expect(await received('r0')).toBe(false);
    expect(await received('r100')).toBe(false);
    expect(await received('r160')).toBe(true);
    expect(await received('r249')).toBe(true);
  });

  it('forgets receipts older than receiptTtlMs', async () => {
    let now = 1_000_000;
    const call = collector({ receiptTtlMs: 1000, now: () => now });
    await post(call, batchBody([event()]), { rid: 'old' });
    now += 1500;
    expect(await (await call('/v1/batch?receipt=old')).json()).toEqual({ rid: 'old', received: false });
  });
});

describe('ingest refuses bad input with a 4xx and stores nothing', () => {
  it.each([
    ['empty body', ''],
    ['truncated JSON', '{"events": ['],
    ['not JSON at all', 'hello'],
    ['NDJSON instead of one object', '{"events": []}\n{"events": []}'],
  ])('400 bad_json for %s', async (_, body) => {
    const reply = await post(collector(), body);
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_json', message: expect.any(String) } });
  });

  const valid = { id: 'e1', name: 'n', timestamp: 1 };
  it.each([
    ['an array body', [], /body must be a JSON object/],
    ['a null body', null, /body must be a JSON object/],
    ['missing events', { sentAt: 1 }, /events must be an array/],
    ['events as an object', { events: {} }, /events must be an array/],
    ['a non-numeric sentAt', { sentAt: 'now', events: [] }, /sentAt/],
    ['an event that is not an object', { events: ['e'] }, /events\[0\] must be an object/],
    ['an event without id', { events: [{ name: 'n', timestamp: 1 }] }, /events\[0\]\.id/],
    ['a numeric id', { events: [{ ...valid, id: 7 }] }, /events\[0\]\.id/],
    ['an id over 256 characters', { events: [{ ...valid, id: 'x'.repeat(257) }] }, /events\[0\]\.id is longer/],
    ['a name over 256 characters', { events: [{ ...valid, name: 'x'.repeat(257) }] }, /events\[0\]\.name is longer/],
    ['a missing name', { events: [valid, { id: 'e2', timestamp: 1 }] }, /events\[1\]\.name/],
    ['a string timestamp', { events: [{ ...valid, timestamp: '1' }] }, /events\[0\]\.timestamp/],
    ['a null timestamp', { events: [{ ...valid, timestamp: null }] }, /events\[0\]\.timestamp/],
    ['a timestamp no Date can hold', { events: [{ ...valid, timestamp: 9e15 }] }, /events\[0\]\.timestamp/],
    ['array properties', { events: [{ ...valid, properties: [1] }] }, /events\[0\]\.properties/],
    ['null properties', { events: [{ ...valid, properties: null }] }, /events\[0\]\.properties/],
    ['a numeric sourceId', { events: [{ ...valid, sourceId: 42 }] }, /events\[0\]\.sourceId/],
    ['a boolean stream', { events: [{ ...valid, stream: true }] }, /events\[0\]\.stream/],
  ])('400 bad_shape for %s', async (_, body, message) => {
    const call = collector();
    const reply = await post(call, JSON.stringify(body));
    expect(reply).toMatchObject({ status: 400, json: { error: 'bad_shape' } });
    expect(reply.json!.message).toMatch(message);
    expect((await readAll(call)).events).toEqual([]);
  });

  it('400 too_deep for one event nested 20,000 deep, before parsing it, and the feed keeps answering', async () => {
    const call = collector();
    const deep = '{"events":[{"id":"d","name":"n","timestamp":1,"properties":{"a":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}}]}';
    expect(await post(call, deep)).toMatchObject({ status: 400, json: { error: 'too_deep' } });
    // 32 levels of properties are allowed, 33 are not.
    // `levels` nested objects as properties: `levels` deep in wire.ts's count (properties is depth 1).
    const nest = (levels: number) => batchBody([event({ properties: JSON.parse('{"a":'.repeat(levels) + '1' + '}'.repeat(levels)) })]);
    expect((await post(call, nest(32))).status).toBe(200);
    expect((await post(call, nest(33))).status).toBe(400);
    expect((await readAll(call)).events).toHaveLength(1);
  });

  it(`413 too_large for more than ${maxBatchEvents} events, so the tracker splits the batch`, async () => {
    const reply = await post(collector(), batchBody(Array.from({ length: maxBatchEvents + 1 }, () => event())));
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(reply.json!.message).toMatch(/too many events: 1001/);
  });

  it('400 bad_encoding for an encoding it does not know, from the query or Content-Encoding', async () => {
    expect(await post(collector(), batchBody([]), { encoding: 'br' })).toMatchObject({ status: 400, json: { error: 'bad_encoding' } });
    expect(await post(collector(), batchBody([]), {}, { 'content-encoding': 'deflate' })).toMatchObject({ status: 400, json: { error: 'bad_encoding' } });
  });

  it.each([
    ['garbage after the magic bytes', () => new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), {}],
    ['a truncated stream', () => gzip(batchBody([event()])).subarray(0, 30), {}],
    ['a stream cut before its trailer', () => { const g = gzip(batchBody([event()])); return g.subarray(0, g.length - 4); }, {}],
    ['plain JSON announced as gzip', () => new TextEncoder().encode(batchBody([event()])), { encoding: 'gzip' }],
  ])('400 bad_gzip for %s', async (_, make, query) => {
    const call = collector();
    expect(await post(call, make(), query)).toMatchObject({ status: 400, json: { error: 'bad_gzip' } });
    expect((await readAll(call)).events).toEqual([]);
  });

  it('accepts gzip, from the query, Content-Encoding or the magic bytes', async () => {
    const call = collector();
    expect((await post(call, gzip(batchBody([event()])), { encoding: 'gzip' })).json).toMatchObject({ accepted: 1 });
    expect((await post(call, gzip(batchBody([event()])))).json).toMatchObject({ accepted: 1 });
    expect((await post(call, gzip(batchBody([event()])), {}, { 'content-encoding': 'gzip' })).json).toMatchObject({ accepted: 1 });
  });

  it.each([
    ['a stream parameter over 128 characters', { stream: 's'.repeat(129) }],
    ['an empty stream parameter', { stream: '' }],
    ['a rid over 256 characters', { rid: 'r'.repeat(257) }],
  ])('400 bad_parameter for %s', async (_, query) => {
    expect(await post(collector(), batchBody([event()]), query)).toMatchObject({ status: 400, json: { error: 'bad_parameter' } });
  });
});

describe('ingest keeps memory bounded', () => {
  it('413 for a body over 1 MiB announced by Content-Length, without reading it', async () => {
    let pulled = 0;
    const body = new ReadableStream({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const reply = await post(collector(), body, {}, { 'content-length': String(2 * 1024 * 1024) });
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(reply.json!.message).toMatch(/Content-Length/);
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('413 for an endless body once it passes 1 MiB, reading little more than the limit', async () => {
    let produced = 0;
    const body = new ReadableStream({
      pull(controller) {
        produced += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const reply = await post(collector(), body);
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(produced).toBeLessThan(1024 * 1024 + 256 * 1024);
  });

  it('413 for a gzip bomb (32 MiB of zeros in ~32 KB), quickly and without inflating it', async () => {
    const bomb = gzipZeros(32 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const startedAt = Date.now();
    const reply = await post(collector(), bomb, { encoding: 'gzip' });
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large' } });
    expect(reply.json!.message).toMatch(/decompressed/);
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });

  it('413 when the inflated body passes 8 MiB, not before', async () => {
    const call = collector();
    const events = (count: number) => batchBody(Array.from({ length: count }, () => event({ properties: { pad: 'x'.repeat(500 * 1024) } })));
    expect(await post(call, gzip(events(15)))).toMatchObject({ status: 200, json: { accepted: 15 } }); // 7.3 MiB inflated
    expect(await post(call, gzip(events(17)))).toMatchObject({ status: 413, json: { error: 'too_large' } }); // 8.3 MiB
  });

  it('413 for one event over 600,000 characters as JSON (a Durable Object row holds 2 MB); 2-MB-as-UTF-8 text below it stores', async () => {
    const call = collector();
    expect((await post(call, gzip(batchBody([event({ properties: { text: '\u20ac'.repeat(590_000) } })])))).status).toBe(200); // 1.77 MB of UTF-8
    const reply = await post(call, gzip(batchBody([event({ properties: { pad: 'x'.repeat(600_000) } })])));
    expect(reply).toMatchObject({ status: 413, json: { error: 'too_large', message: expect.stringMatching(/events\[0\]/) } });
  });
});

describe('signatures: HMAC over the exact bytes with the key of the events’ stream', () => {
  const encoder = new TextEncoder();
  const sign = (key: string, body: string | Uint8Array) => createHmacSigner(key)(typeof body === 'string' ? encoder.encode(body) : body);

  it('401 for a missing or wrong sig; 200 with the right one', async () => {
    const call = collector({ keys: { '*': 'default-key' } });
    const body = batchBody([event()]);
    expect(await post(call, body)).toMatchObject({ status: 401, json: { error: 'bad_signature', message: expect.stringMatching(/missing/) } });
    expect(await post(call, body, { sig: sign('other', body) })).toMatchObject({ status: 401, json: { message: expect.stringMatching(/does not match/) } });
    expect(await post(call, body, { sig: 'zz' })).toMatchObject({ status: 401 });
    expect(await post(call, body, { sig: sign('default-key', body) })).toMatchObject({ status: 200, json: { accepted: 1 } });
  });

  it('signs the gzip bytes as sent, not the inflated JSON', async () => {
    const call = collector({ keys: { '*': 'k' } });
    const body = gzip(batchBody([event()]));
    expect((await post(call, body, { sig: sign('k', body) })).status).toBe(200);
    expect((await post(call, gzip(batchBody([event()])), { sig: sign('k', batchBody([event()])) })).status).toBe(401);
  });

  it('a page’s key never signs events of a server-only stream: events must be in the URL’s stream', async () => {
    const call = collector({ keys: { web: 'public-page-key', server: 'server-secret' } });
    const forged = batchBody([event({ stream: 'server', name: 'refund' })]);
    // Signed with the web key, on the web URL, claiming the server stream: refused, not stored.
    expect(await post(call, forged, { stream: 'web', sig: sign('public-page-key', forged) })).toMatchObject({ status: 400, json: { error: 'stream_mismatch' } });
    // On the server URL it needs the server key.
    expect((await post(call, forged, { stream: 'server', sig: sign('public-page-key', forged) })).status).toBe(401);
    expect((await post(call, forged, { stream: 'server', sig: sign('server-secret', forged) })).status).toBe(200);
    // Events without their own stream are in the URL's stream, and stored so.
    const plain = batchBody([event({ id: 'web-1' })]);
    expect((await post(call, plain, { stream: 'web', sig: sign('public-page-key', plain) })).status).toBe(200);
    // No stream in the URL: an event naming one is refused (the default key would sign it).
    expect((await post(call, forged)).json).toMatchObject({ error: 'stream_mismatch' });
    const streams = (await readAll(call)).events.map((e) => [e.data!.id, e.data!.stream]);
    expect(streams).toContainEqual(['web-1', 'web']);
    expect(streams.filter(([, stream]) => stream === 'server')).toHaveLength(1);
  });

  it('a stream without a key needs no signature when there is no default key', async () => {
    const call = collector({ keys: { server: 's' } });
    expect((await post(call, batchBody([event()]), { stream: 'ui' })).status).toBe(200);
    expect((await post(call, batchBody([event()]), { stream: 'server' })).status).toBe(401);
  });

  it('refuses a gzip bomb without a valid signature before inflating it (401, not 413)', async () => {
    const call = collector({ keys: { '*': 'k' } });
    expect(await post(call, gzipZeros(32 * 1024 * 1024), { encoding: 'gzip', sig: '0'.repeat(64) })).toMatchObject({ status: 401 });
  });
});

/** A gzip of `size` zero bytes, compressed from one reused 1 MiB piece so the test never holds them. */
function gzipZeros(size: number): Uint8Array {
  const out: Uint8Array[] = [];
  const gz = new Gzip({ level: 9 }, (chunk) => out.push(chunk));
  const piece = new Uint8Array(1024 * 1024);
  for (let written = 0; written < size; written += piece.length) gz.push(piece, written + piece.length >= size);
  const bytes = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of out) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
