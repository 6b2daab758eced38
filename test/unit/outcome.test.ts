import { describe, expect, it } from 'vitest';
import { classifyStatus } from '../../src/transport/outcome.js';

describe('classifyStatus', () => {
  it.each([
    { status: 200, kind: 'ok' },
    { status: 202, kind: 'ok' },
    { status: 204, kind: 'ok' },
    { status: 408, kind: 'retry' },
    { status: 429, kind: 'retry' },
    { status: 500, kind: 'retry' },
    { status: 503, kind: 'retry' },
    { status: 413, kind: 'split' },
    { status: 400, kind: 'drop' },
    { status: 401, kind: 'drop' },
    { status: 404, kind: 'drop' },
    // Regression (issue 9): a redirect was never an acknowledgement, and not a refusal either.
    { status: 301, kind: 'retry' },
    { status: 302, kind: 'retry' },
    { status: 303, kind: 'retry' },
    { status: 307, kind: 'retry' },
    { status: 308, kind: 'retry' },
  ])('HTTP $status → $kind', ({ status, kind }) => {
    expect(classifyStatus(status, null, 0, 1000, undefined).kind).toBe(kind);
  });

  it('carries Retry-After on retryable statuses', () => {
    expect(classifyStatus(429, '2', 0, 300_000, undefined)).toMatchObject({ kind: 'retry', retryAfterMs: 2000 });
    expect(classifyStatus(503, '999', 0, 60_000, undefined)).toMatchObject({ kind: 'retry', retryAfterMs: 60_000 });
  });
});
