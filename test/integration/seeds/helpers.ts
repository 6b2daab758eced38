import { onTestFinished } from 'vitest';
import { startCollector } from '../../../demo/collector/collector.mjs';
import { createTracker, type OutboxError, type Tracker, type TrackerOptions } from '../../../src/index.js';

/** The reference collector (demo/collector), closed when the current test ends. */
export type Collector = Awaited<ReturnType<typeof startCollector>>;

/** Starts the real collector on 127.0.0.1 and closes it when the test finishes, pass or fail. */
export async function collector(options: Parameters<typeof startCollector>[0] = {}): Promise<Collector> {
  const started = await startCollector({ port: 0, quiet: true, ...options });
  onTestFinished(() => started.close());
  return started;
}

/**
 * A tracker for tests: memory only, a short timer, quick retries, and every `onError` kept in
 * `errors`. Closed (briefly) when the test finishes.
 */
export function tracker(options: Partial<TrackerOptions> & { endpoint: string }): Tracker & { errors: OutboxError[] } {
  const errors: OutboxError[] = [];
  const created = createTracker({
    storage: false,
    flushIntervalMs: 50,
    retry: { baseMs: 20, maxDelayMs: 200 },
    ...options,
    onError: (error) => {
      errors.push(error);
      options.onError?.(error);
    },
  });
  onTestFinished(() => created.close(200).then(() => undefined));
  return Object.assign(created, { errors });
}

/** The errors of one code, in the order reported. */
export function errorsOf(errors: readonly OutboxError[], code: OutboxError['code']): OutboxError[] {
  return errors.filter((error) => error.code === code);
}
