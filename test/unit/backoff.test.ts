import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../src/backoff.js';

describe('backoffDelay (full jitter)', () => {
  const options = { baseMs: 1000, maxDelayMs: 300_000 };
  it.each([
    { attempt: 0, random: 0.5, delay: 500 },
    { attempt: 1, random: 0.5, delay: 1000 },
    { attempt: 3, random: 0.999, delay: 7992 },
    { attempt: 4, random: 0, delay: 0 },
    { attempt: 20, random: 0.5, delay: 150_000 }, // capped at maxDelayMs
    { attempt: 5000, random: 1, delay: 300_000 }, // no overflow for huge attempts
  ])('attempt $attempt with random $random waits $delay ms', ({ attempt, random, delay }) => {
    expect(backoffDelay(attempt, options, () => random)).toBe(delay);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  it.each([
    { value: '120', ms: 120_000 },
    { value: ' 3 ', ms: 3000 },
    { value: '0', ms: 0 },
    { value: 'Sun, 22 Nov 2026 10:00:30 GMT', ms: 30_000 },
    { value: 'Sun, 22 Nov 2026 09:00:00 GMT', ms: 0 }, // in the past: retry now
    { value: '99999999', ms: 300_000 }, // capped
    { value: 'soon', ms: undefined },
    { value: '', ms: undefined },
    { value: null, ms: undefined },
  ])('"$value" → $ms', ({ value, ms }) => {
    expect(parseRetryAfter(value, now, 300_000)).toBe(ms);
  });
});
