import { describe, expect, it } from 'vitest';
import { createHmacSigner } from '../../../src/sign/hmac.js';
import { createTracker } from '../../../src/index.js';
import { collector, tracker } from './helpers.js';

// Connection test [Ramen test_connection]: `testConnection()` POSTs an empty batch flagged
// `&test=1`, which the collector validates (signature included) and records nothing of.

describe('testConnection()', () => {
  it('is ok against a live collector, and records nothing', async () => {
    const server = await collector();
    const outbox = tracker({ endpoint: server.endpoint });

    expect(await outbox.testConnection()).toEqual({ ok: true, status: 200 });
    expect(server.events()).toEqual([]);
    expect(server.stats()).toMatchObject({ connectionTests: 1, accepted: 0, requests: 1 });
    expect(outbox.stats()).toMatchObject({ tracked: 0, sent: 0, requests: 0 });
  });

  it('checks the signature too: ok with the right key', async () => {
    const server = await collector({ authKeys: { '*': 'key' } });
    const outbox = tracker({ endpoint: server.endpoint, signer: createHmacSigner('key') });
    expect(await outbox.testConnection()).toEqual({ ok: true, status: 200 });
    expect(server.stats()).toMatchObject({ connectionTests: 1, signatureFailures: 0 });
  });

  it('is not ok, with the status and a reason, when the key is wrong (401)', async () => {
    const server = await collector({ authKeys: { '*': 'key' } });
    const outbox = tracker({ endpoint: server.endpoint, signer: createHmacSigner('wrong') });
    const result = await outbox.testConnection();
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.reason).toContain('401');
    expect(server.stats()).toMatchObject({ connectionTests: 0, signatureFailures: 1 });
  });

  it('is not ok, with a reason and no status, when connections are refused', async () => {
    const server = await collector({ faults: { refuseForMs: 60_000 } });
    const outbox = tracker({ endpoint: server.endpoint });
    const result = await outbox.testConnection();
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.reason).toEqual(expect.any(String));
    expect(result.reason!.length).toBeGreaterThan(0);
  });

  it('is not ok when nothing listens at all', async () => {
    const server = await collector();
    const endpoint = server.endpoint;
    await server.close();
    const result = await tracker({ endpoint }).testConnection();
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/\S/) });
  });

  it('reports a refusing collector (rejectStatus 403) as not ok with its status', async () => {
    const server = await collector({ faults: { rejectStatus: 403 } });
    expect(await tracker({ endpoint: server.endpoint }).testConnection()).toEqual({ ok: false, status: 403, reason: expect.stringMatching(/^HTTP 403: .*fault/) });
  });

  it('tests a stream through its own endpoint and signer', async () => {
    const [main, audit] = await Promise.all([collector({ faults: { rejectStatus: 503 } }), collector({ authKeys: { '*': 'audit-key' } })]);
    const outbox = tracker({ endpoint: main.endpoint, streams: { audit: { endpoint: audit.endpoint, signer: createHmacSigner('audit-key') } } });
    expect(await outbox.testConnection('audit')).toEqual({ ok: true, status: 200 });
    expect(audit.stats()).toMatchObject({ connectionTests: 1, signatureFailures: 0 });
    // A stream without settings of its own goes where the tracker's events go.
    expect(await outbox.testConnection('clicks')).toMatchObject({ ok: false, status: 503 });
    expect(main.stats().requests).toBe(1);
  });

  it('resolves not ok, never rejects, when the signer throws', async () => {
    const server = await collector();
    const outbox = tracker({
      endpoint: server.endpoint,
      signer: () => {
        throw new Error('no key loaded');
      },
    });
    expect(await outbox.testConnection()).toEqual({ ok: false, reason: 'Error: no key loaded' });
    expect(server.stats().requests).toBe(0);
  });

  it('has nothing to test when a custom transport delivers and no endpoint is set', async () => {
    const outbox = createTracker({ storage: false, transport: { send: async () => ({ kind: 'ok' }) } });
    expect(await outbox.testConnection()).toEqual({ ok: false, reason: 'no endpoint: a custom transport delivers' });
    await outbox.close();
  });
});
