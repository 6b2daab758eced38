import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { createReporter, maxReportsPerCall } from '../../src/reporter.js';

describe('createReporter', () => {
  it('delivers re-entrant reports in a loop, one frame deep, and counts those past the cap', () => {
    const depths: number[] = [];
    let depth = 0;
    const counters = { unreportedErrors: 0 };
    const report = createReporter(() => {
      depth++;
      depths.push(depth);
      report(new OutboxError('overflow', 'again')); // re-enters on every call
      depth--;
    }, counters);
    report(new OutboxError('overflow', 'first'));
    expect(depths).toHaveLength(maxReportsPerCall);
    expect(Math.max(...depths)).toBe(1);
    // the last delivered call queued one more: counted, not delivered, and the loop ends
    expect(counters.unreportedErrors).toBe(1);
  });

  it('swallows a throwing callback and keeps delivering', () => {
    const seen: string[] = [];
    const report = createReporter((error) => {
      seen.push(error.message);
      throw new Error('host bug');
    });
    expect(() => report(new OutboxError('retry', 'a'))).not.toThrow();
    report(new OutboxError('retry', 'b'));
    expect(seen).toEqual(['[outbox] a', '[outbox] b']);
  });

  it('does nothing without a callback', () => {
    const counters = { unreportedErrors: 0 };
    const report = createReporter(undefined, counters);
    expect(() => report(new OutboxError('retry', 'a'))).not.toThrow();
    expect(counters.unreportedErrors).toBe(0);
  });
});
