import { describe, expect, it } from 'vitest';
import { signBody } from '../../demo/collector/signature.mjs';
import { batchBody, event, gzip, post, start } from './harness.mjs';

const authKeys = { audit: 'audit-key', '*': 'default-key' };

describe('request signatures', () => {
  it.each([
    ['the default key, no stream: 200', undefined, 'default-key', 200],
    ['the default key, an unlisted stream: 200', 'clicks', 'default-key', 200],
    ["the stream's own key: 200", 'audit', 'audit-key', 200],
    ['the default key on a stream with its own key: 401', 'audit', 'default-key', 401],
    ['a wrong key: 401', undefined, 'wrong-key', 401],
    ['no signature: 401', undefined, undefined, 401],
  ])('signed with %s', async (_, stream, key, status) => {
    const collector = await start({ authKeys });
    const body = batchBody([event()]);
    /** @type {Record<string, string>} */
    const query = { rid: 'r' };
    if (stream) query.stream = stream;
    if (key) query.sig = signBody(key, Buffer.from(body));
    const reply = await post(collector, body, { query });

    expect(reply.status).toBe(status);
    expect(collector.events()).toHaveLength(status === 200 ? 1 : 0);
    if (status === 401) {
      expect(reply.json).toMatchObject({ error: 'bad_signature' });
      expect(collector.stats()).toMatchObject({ signatureFailures: 1, rejected: { 401: 1 } });
    }
  });

  it.each([
    ['uppercase hex', (sig) => sig.toUpperCase()],
    ['a truncated signature', (sig) => sig.slice(0, 62)],
    ['a signature of other bytes', () => signBody('default-key', Buffer.from('{}'))],
  ])('refuses %s', async (_, alter) => {
    const collector = await start({ authKeys });
    const body = batchBody([event()]);
    const reply = await post(collector, body, { query: { sig: alter(signBody('default-key', Buffer.from(body))) } });
    expect(reply.status).toBe(401);
  });

  it('signs the gzip bytes as sent, not the inflated JSON', async () => {
    const collector = await start({ authKeys });
    const compressed = gzip(batchBody([event()]));
    const overJson = await post(collector, compressed, {
      query: { encoding: 'gzip', sig: signBody('default-key', Buffer.from(batchBody([]))) },
    });
    const overGzip = await post(collector, compressed, {
      query: { encoding: 'gzip', sig: signBody('default-key', compressed) },
    });

    expect(overJson.status).toBe(401);
    expect(overGzip.status).toBe(200);
  });

  it('requires no signature on streams without a key when there is no default', async () => {
    const collector = await start({ authKeys: { audit: 'audit-key' } });
    expect((await post(collector, batchBody([event()]), { query: { stream: 'clicks' } })).status).toBe(200);
    expect((await post(collector, batchBody([event()]), { query: { stream: 'audit' } })).status).toBe(401);
    expect((await post(collector, batchBody([event()]))).status).toBe(200);
  });

  it('setAuthKeys changes the keys at run time; null turns signing off', async () => {
    const collector = await start();
    expect((await post(collector, batchBody([event()]))).status).toBe(200);
    collector.setAuthKeys({ '*': 'k' });
    expect((await post(collector, batchBody([event()]))).status).toBe(401);
    collector.setAuthKeys(null);
    expect((await post(collector, batchBody([event()]))).status).toBe(200);
  });

  it('a connection test checks the signature too', async () => {
    const collector = await start({ authKeys });
    const reply = await post(collector, batchBody([]), { query: { test: '1', sig: 'ab'.repeat(32) } });
    expect(reply.status).toBe(401);
  });

  it('refuses a gzip bomb without a valid signature before inflating it', async () => {
    const collector = await start({ authKeys, maxDecompressedBytes: 10 });
    const reply = await post(collector, gzip('x'.repeat(10_000)), { query: { encoding: 'gzip' } });
    expect(reply.status).toBe(401);
    expect(collector.stats().bytesInflated).toBe(0);
  });
});
