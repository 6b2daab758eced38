// The queue-wide backoff decision (issue 9): while the collector fails, the whole queue waits
// and then probes with one request; the server's Retry-After and the client's cap are separate.
import { describe, expect, it } from 'vitest';
import { afterFailure, allowedInFlight, healthy, rebase } from '../../src/queue-backoff.js';

const backoff = { baseMs: 1000, maxDelayMs: 5000 };
const fail = (state = healthy, extra: { retryAfterMs?: number; now?: number; random?: number; maxRetryAfterMs?: number } = {}) =>
  afterFailure(state, extra.retryAfterMs, extra.now ?? 0, { random: () => extra.random ?? 0.5, retry: backoff, maxRetryAfterMs: extra.maxRetryAfterMs ?? 3_600_000 });

describe('queue backoff', () => {
  it.each([
    { name: 'first failure: half of baseMs', failures: 1, until: 500 },
    { name: 'second failure: half of 2 x baseMs', failures: 2, until: 1000 },
    { name: 'tenth failure: capped at maxDelayMs', failures: 10, until: 2500 },
  ])('$name', ({ failures, until }) => {
    let state = healthy;
    for (let i = 0; i < failures; i++) state = fail({ ...state, until: 0 });
    expect(state).toMatchObject({ failures, until });
  });

  it.each([
    { name: 'Retry-After longer than retry.maxDelayMs is honoured', retryAfterMs: 20_000, maxRetryAfterMs: 3_600_000, until: 20_000 },
    { name: 'Retry-After is capped by maxRetryAfterMs, not maxDelayMs', retryAfterMs: 9e9, maxRetryAfterMs: 60_000, until: 60_000 },
    { name: 'Retry-After 0 retries at once', retryAfterMs: 0, maxRetryAfterMs: 60_000, until: 0 },
    { name: 'a negative one from a custom transport is none: client backoff', retryAfterMs: -5, maxRetryAfterMs: 60_000, until: 500 },
    { name: 'NaN from a custom transport is none: client backoff', retryAfterMs: NaN, maxRetryAfterMs: 60_000, until: 500 },
  ])('$name', ({ retryAfterMs, maxRetryAfterMs, until }) => {
    expect(fail(healthy, { retryAfterMs, maxRetryAfterMs }).until).toBe(until);
  });

  it('a later failure never shortens a pause already decided', () => {
    const paused = fail(healthy, { retryAfterMs: 30_000 });
    expect(fail(paused, { now: 10, random: 0 }).until).toBe(30_000);
  });

  it.each([
    { name: 'healthy: full concurrency', state: healthy, now: 0, allowed: 4 },
    { name: 'failing, paused: nothing', state: { failures: 3, until: 100 }, now: 99, allowed: 0 },
    { name: 'failing, pause over: one probe', state: { failures: 3, until: 100 }, now: 100, allowed: 1 },

  ])('$name', ({ state, now, allowed }) => {
    expect(allowedInFlight(state, now, 4)).toBe(allowed);
  });

  it.each([
    { name: 'clock went back a day: the 10 s pause lasts 10 s from now', now: 1_000 - 86_400_000, until: 11_000 - 86_400_000 },
    { name: 'clock steady: unchanged', now: 5_000, until: 11_000 },
    { name: 'clock jumped forward: the pause ends early (only politeness)', now: 86_400_000, until: 11_000 },
  ])('rebase: $name', ({ now, until }) => {
    const paused = fail(healthy, { retryAfterMs: 10_000, now: 1_000 });
    expect(rebase(paused, now).until).toBe(until);
  });

  // sim F9: a failure after the clock went back must not keep the old pause, a jump away.
  it('a failure after the clock went back pauses from now, not until the pause before the jump', () => {
    const paused = fail(healthy, { now: 100_000_000, retryAfterMs: 2000 });
    const after = fail(paused, { now: 1_000, retryAfterMs: 0 });
    expect(after.until).toBeLessThanOrEqual(1_000 + 2000);
    expect(after.failures).toBe(2);
  });
});
