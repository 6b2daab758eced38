import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { createReporter } from '../../src/reporter.js';

describe('createReporter', () => {
  it('delivers re-entrant reports in a loop, one frame deep, and counts those past the cap', () => {
    const depths: number[] = [];
    let depth = 0;
    let unreported = 0;
    const report = createReporter(
      () => {
        depth++;
        depths.push(depth);
        report(new OutboxError('overflow', 'again')); // re-enters on every call
        depth--;
      },
      () => unreported++,
      50,
    );
    report(new OutboxError('overflow', 'first'));
    expect(depths).toHaveLength(50);
    expect(Math.max(...depths)).toBe(1);
    expect(unreported).toBe(1); // the 51st was queued by the 50th call, then counted, not delivered
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
    let unreported = 0;
    const report = createReporter(undefined, () => unreported++);
    report(new OutboxError('retry', 'a'));
    expect(unreported).toBe(0);
  });
});
