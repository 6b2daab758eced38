import { describe, expect, it } from 'vitest';
import { createStats } from '../../demo/collector/stats.mjs';

describe('createStats', () => {
  it('eventsPerSecond covers the last second only', () => {
    let now = 10_000;
    const stats = createStats(() => now);
    stats.stored(5);
    now += 500;
    stats.stored(3);

    now = 10_900;
    expect(stats.snapshot().eventsPerSecond).toBe(8);
    now = 11_050;
    expect(stats.snapshot().eventsPerSecond).toBe(3);
    now = 12_000;
    expect(stats.snapshot()).toMatchObject({ eventsPerSecond: 0, accepted: 8, lastEventAt: 10_500 });
  });

  it('reuses a bucket slot a second later without adding the old count', () => {
    let now = 0;
    const stats = createStats(() => now);
    stats.stored(4);
    now = 1000;
    stats.stored(1);
    expect(stats.snapshot().eventsPerSecond).toBe(1);
  });

  it('snapshots are copies and reset keeps the counters object', () => {
    const stats = createStats(() => 0);
    const counters = stats.counters();
    stats.reject(503);
    const snapshot = stats.snapshot();
    stats.reject(503);
    expect(snapshot.rejected).toEqual({ 503: 1 });

    stats.reset();
    expect(stats.counters()).toBe(counters);
    expect(stats.snapshot()).toMatchObject({ rejected: {}, accepted: 0, lastEventAt: null, eventsPerSecond: 0 });
  });
});
