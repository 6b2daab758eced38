// A real reference collector on 127.0.0.1 for a test file, reset between tests.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCollector } from '../../demo/collector/collector.mjs';

export type Collector = Awaited<ReturnType<typeof startCollector>>;
import type { WireEvent } from '../../src/wire.js';
export type { WireEvent };

/** Starts one collector for the file; `get()` returns it. Faults and events are cleared after each test. */
export function useCollector(options: Parameters<typeof startCollector>[0] = {}): () => Collector {
  let collector: Collector;
  beforeAll(async () => {
    collector = await startCollector({ port: 0, quiet: true, ...options });
  });
  afterEach(() => collector.reset());
  afterAll(() => collector.close());
  return () => collector;
}

/** Fast retries for tests: the policy is the same, the clock just runs short. */
export const fastRetry = { baseMs: 5, maxDelayMs: 200 };

export const eventsOf = (collector: Collector): WireEvent[] => collector.events() as WireEvent[];
