// Helpers for tests running inside workerd: the collector (through the control server of
// global-setup.ts, which stays reachable while the collector refuses connections) and execution
// contexts whose `waitUntil` calls are recorded.
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import type { TrackerOptions } from 'outbox';

/** An event as the collector stored it: wire format v1's one definition. */
import type { WireEvent } from 'outbox/wire';
export type { WireEvent };

async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(env.CONTROL_URL + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`control ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export const collector = {
  endpoint: env.COLLECTOR_ENDPOINT,
  events: async () => (await control<{ events: WireEvent[] }>('GET', '/events')).events,
  stats: () => control<{ accepted: number; duplicates: number; requests: number; refusedConnections: number; bytesIn: number; bytesInflated: number }>('GET', '/stats'),
  reset: () => control('POST', '/reset'),
  /**
   * Refuses every connection until `up()`: "the collector is down". (The pool runs workerd
   * verbosely: each refused fetch also logs an info-level "uncaught exception … Network connection
   * lost." from workerd itself, although outbox catches the error. Noise, not a failure.)
   */
  down: () => control('POST', '/faults', { refuseForMs: 10 * 60_000 }),
  up: () => control('DELETE', '/faults'),
  /** Polls until the collector stored at least `count` events. */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<WireEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = await collector.events();
      if (events.length >= count) return events;
      if (Date.now() > deadline) throw new Error(`the collector has ${events.length} events, expected ${count} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  },
};

/** Tracker options that fail and retry fast: tests wait for retries, never for defaults. */
export function fastTracker(overrides: Partial<TrackerOptions> = {}): TrackerOptions {
  return { endpoint: env.COLLECTOR_ENDPOINT, retry: { baseMs: 100, maxDelayMs: 200 }, timeoutMs: 2000, ...overrides };
}

/** An ExecutionContext whose `waitUntil` calls are recorded (and still honoured). */
export function spiedContext() {
  const ctx = createExecutionContext();
  const waitUntil = vi.spyOn(ctx, 'waitUntil');
  return {
    ctx,
    waitUntil,
    /** What the promises handed to `waitUntil` resolved with. */
    settled: () => Promise.all(waitUntil.mock.calls.map(([promise]) => promise)),
  };
}

/** Counts each id: an id seen twice at the collector would show as 2. */
export function countIds(events: readonly { id: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { id } of events) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
