// What an outcome means for a batch (issue 9): a 400 or 413 splits until the offender is alone;
// an acknowledgement is accounted from the reply's `ruled` ids, never by re-matching rules.
import { describe, expect, it } from 'vitest';
import { decideBatch, ruledEvents } from '../../src/batch-outcome.js';
import type { SendOutcome } from '../../src/index.js';

const error = new Error('x');
describe('decideBatch', () => {
  it.each<{ name: string; outcome: SendOutcome; size: number; attempt?: number; limit?: number; decision: unknown }>([
    { name: '2xx acknowledges', outcome: { kind: 'ok', status: 200 }, size: 10, decision: 'ack' },
    { name: '503 retries', outcome: { kind: 'retry', status: 503, error }, size: 10, decision: 'retry' },
    { name: '503 past the limit expires', outcome: { kind: 'retry', status: 503, error }, size: 10, attempt: 4, limit: 3, decision: 'expire' },
    { name: '413 of many splits', outcome: { kind: 'split', status: 413, error }, size: 2, decision: 'split' },
    { name: '413 of one drops too_large', outcome: { kind: 'split', status: 413, error }, size: 1, decision: 'too_large' },
    { name: '400 of many splits (one bad event must not take its batch)', outcome: { kind: 'drop', status: 400, error }, size: 100, decision: 'split' },
    { name: '400 of one drops rejected', outcome: { kind: 'drop', status: 400, error }, size: 1, decision: 'rejected' },
    { name: '401 is about the request: the batch is rejected', outcome: { kind: 'drop', status: 401, error }, size: 100, decision: 'rejected' },
    { name: 'an unknown outcome kind is a failure, never an ack', outcome: { kind: 'weird' } as unknown as SendOutcome, size: 3, decision: 'retry' },
  ])('$name', ({ outcome, size, attempt, limit, decision }) => {
    expect(decideBatch(outcome, size, attempt ?? 1, limit ?? Infinity)).toEqual(decision);
  });
});

describe('ruledEvents', () => {
  it.each([
    { name: 'no reply: all stored', reply: undefined, ruled: [] },
    { name: 'no ruled field: all stored', reply: { accepted: 3, duplicates: 0 }, ruled: [] },
    { name: 'rules without ruled: all stored (no re-matching)', reply: { accepted: 3, duplicates: 0, rules: [{ name: 'a', ttlMs: 0 }] }, ruled: [] },
    { name: 'ruled ids of the batch', reply: { ruled: ['a', 'c'] }, ruled: ['a', 'c'] },
    { name: 'ids not in the batch and non-strings ignored', reply: { ruled: ['zz', 1, null, 'b'] }, ruled: ['b'] },
    { name: 'ruled not an array', reply: { ruled: 'a' }, ruled: [] },
  ])('$name', ({ reply, ruled }) => {
    expect(ruledEvents(reply, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]).map((e) => e.id)).toEqual(ruled);
  });
});
