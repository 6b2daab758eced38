// outbox/storage/workers-kv against the local KV of workerd: the shared StorageAdapter contract,
// then what is particular to KV (pagination, prefixes, TTL, key limits).
import { reset } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { isOutboxError } from 'outbox';
import { createWorkersKvStorage, workersKvLimits } from 'outbox/storage/workers-kv';
import { runStorageContract } from '../storage-contract.js';

// KV state persists from test to test unless reset: each test starts from an empty namespace.
beforeEach(() => reset());

runStorageContract('workers-kv', () => createWorkersKvStorage(env.OUTBOX_KV));

describe('Workers KV storage', () => {
  it('follows the list() cursor past the first page', async () => {
    const pages: number[] = [];
    const kv = env.OUTBOX_KV;
    const smallPages = {
      get: (key: string) => kv.get(key, 'text'),
      put: (key: string, value: string, options?: KVNamespacePutOptions) => kv.put(key, value, options),
      delete: (key: string) => kv.delete(key),
      // Pages of 2 keys stand in for KV's pages of 1000.
      list: async (options?: KVNamespaceListOptions) => {
        const page = await kv.list({ ...options, limit: 2 });
        pages.push(page.keys.length);
        return page;
      },
    };
    const storage = createWorkersKvStorage(smallPages);
    await Promise.all(['c:1', 'c:2', 'c:3', 'c:4', 'c:5', 'l:1'].map((key) => storage.set(key, key)));

    expect((await storage.keys('c:')).sort()).toEqual(['c:1', 'c:2', 'c:3', 'c:4', 'c:5']);
    expect(pages).toEqual([2, 2, 1]);
  });

  it('keeps each prefix to itself, so one namespace holds several outboxes', async () => {
    const a = createWorkersKvStorage(env.OUTBOX_KV, { prefix: 'app-a:' });
    const b = createWorkersKvStorage(env.OUTBOX_KV, { prefix: 'app-b:' });
    await a.set('c:1', 'from a');
    await b.set('c:1', 'from b');

    expect(await a.get('c:1')).toBe('from a');
    expect(await b.keys('c:')).toEqual(['c:1']);
    await a.delete('c:1');
    expect(await b.get('c:1')).toBe('from b');
    expect((await env.OUTBOX_KV.list()).keys.map((key) => key.name)).toEqual(['app-b:c:1']);
  });

  it('writes every key with an expiration (default 7 days)', async () => {
    const before = Math.floor(Date.now() / 1000);
    await createWorkersKvStorage(env.OUTBOX_KV).set('c:1', '[]');
    await createWorkersKvStorage(env.OUTBOX_KV, { prefix: 'short:', ttlMs: 90_000 }).set('c:1', '[]');

    const expirations = Object.fromEntries((await env.OUTBOX_KV.list()).keys.map((key) => [key.name, key.expiration! - before]));
    expect(expirations['outbox:c:1']).toBeGreaterThanOrEqual(7 * 24 * 3600);
    expect(expirations['outbox:c:1']).toBeLessThanOrEqual(7 * 24 * 3600 + 2);
    expect(expirations['short:c:1']).toBeGreaterThanOrEqual(90);
    expect(expirations['short:c:1']).toBeLessThanOrEqual(92);
  });

  it('refuses a TTL below KV’s 60 s minimum at setup', () => {
    expect(() => createWorkersKvStorage(env.OUTBOX_KV, { ttlMs: 59_999 })).toThrow(RangeError);
    expect(() => createWorkersKvStorage(env.OUTBOX_KV, { ttlMs: workersKvLimits.minTtlMs })).not.toThrow();
  });

  it('refuses a key over 512 bytes with an OutboxError naming it', async () => {
    const storage = createWorkersKvStorage(env.OUTBOX_KV);
    const fits = `c:${'k'.repeat(workersKvLimits.maxKeyBytes - 'outbox:c:'.length)}`;
    await storage.set(fits, 'ok');
    expect(await storage.get(fits)).toBe('ok');

    const error = await storage.set(`${fits}é`, 'no').catch((e: unknown) => e);
    expect(isOutboxError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'storage', message: expect.stringContaining('over 512 bytes') });
  });
});
