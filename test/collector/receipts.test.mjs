import { describe, expect, it } from 'vitest';
import { batchBody, call, event, post, start } from './harness.mjs';

// GET {ingest}?receipt=<rid> -> wire.ts ReceiptReply {rid, received}: whether a request with that
// rid was committed. The next page asks this about the unload beacon of the page before.

/** @param {{ url: string }} collector @param {string} rid */
const receipt = (collector, rid) => call(collector, `/v1/batch?receipt=${encodeURIComponent(rid)}`);

describe('receipts', () => {
  it('a committed request reads received: true, an unknown rid false', async () => {
    const collector = await start();
    await post(collector, batchBody([event()]), { query: { rid: 'unload-1' } });
    expect(await receipt(collector, 'unload-1')).toMatchObject({ status: 200, json: { rid: 'unload-1', received: true } });
    expect(await receipt(collector, 'never-sent')).toMatchObject({ status: 200, json: { rid: 'never-sent', received: false } });
  });

  it('a request of duplicates only was committed too', async () => {
    const collector = await start();
    const events = [event()];
    await post(collector, batchBody(events), { query: { rid: 'first' } });
    await post(collector, batchBody(events), { query: { rid: 'retry' } });
    expect((await receipt(collector, 'retry')).json.received).toBe(true);
  });

  it.each([
    ['a fault', { faults: { rejectStatus: 503 } }, batchBody([event()]), {}],
    ['a bad body', {}, '{', {}],
    ['a connection test', {}, batchBody([]), { test: '1' }],
  ])('a request refused by %s, or not storing, reads received: false', async (_, options, body, query) => {
    const collector = await start(options);
    await post(collector, body, { query: { rid: 'r1', ...query } });
    expect((await receipt(collector, 'r1')).json).toEqual({ rid: 'r1', received: false });
  });

  it('the window is bounded: the oldest rid is forgotten first', async () => {
    const collector = await start({ dedupeWindow: { requests: 2 } });
    for (const rid of ['a', 'b', 'c']) await post(collector, batchBody([event()]), { query: { rid } });
    expect((await receipt(collector, 'a')).json.received).toBe(false);
    expect((await receipt(collector, 'c')).json.received).toBe(true);
  });

  it.each([
    ['an empty rid', '/v1/batch?receipt='],
    ['an over-long rid', `/v1/batch?receipt=${'r'.repeat(257)}`],
    ['no receipt parameter', '/v1/batch'],
  ])('%s is a 400 bad_parameter', async (_, path) => {
    const collector = await start();
    expect(await call(collector, path)).toMatchObject({ status: 400, json: { error: 'bad_parameter' } });
  });

  it('a receipt lists the ids the rules dropped (wire.ts ReceiptReply.ruled), as the request\'s reply did', async () => {
    const collector = await start({ rules: [{ name: 'debug', ttlMs: 60_000 }], dedupeWindow: { requests: 2 } });
    const dropped = event({ name: 'debug' });
    await post(collector, batchBody([dropped, event()]), { query: { rid: 'r1' } });
    await post(collector, batchBody([event()]), { query: { rid: 'r2' } });
    expect((await receipt(collector, 'r1')).json).toEqual({ rid: 'r1', received: true, ruled: [dropped.id] });
    expect((await receipt(collector, 'r2')).json).toEqual({ rid: 'r2', received: true });
    // Past the window the request is forgotten, its ruled ids with it.
    await post(collector, batchBody([event()]), { query: { rid: 'r3' } });
    expect((await receipt(collector, 'r1')).json).toEqual({ rid: 'r1', received: false });
  });

  it('reset() forgets receipts', async () => {
    const collector = await start();
    await post(collector, batchBody([event()]), { query: { rid: 'r1' } });
    collector.reset();
    expect((await receipt(collector, 'r1')).json.received).toBe(false);
  });
});
