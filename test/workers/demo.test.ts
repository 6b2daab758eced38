// The demo Worker (demo/worker), running in its own workerd as `node demo/worker/run.mjs` starts
// it: without nodejs_compat, so it also proves outbox imports with no Node built-ins and does no
// I/O, timers or randomness at import time (workerd refuses to start a Worker that does).
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { collector, countIds } from './harness.js';

beforeEach(async () => {
  await collector.up();
  await collector.reset();
});

describe.each([
  { delivery: 'http', url: () => env.DEMO_URL },
  { delivery: 'queue', url: () => env.DEMO_QUEUE_URL },
])('demo Worker, $delivery delivery', ({ delivery, url }) => {
  it('tracks one page_view per request, each delivered once after its response', async () => {
    const paths = ['/', '/pricing', '/docs', '/blog', '/about'];

    // Concurrent requests: separate I/O contexts; a tracker shared between them would fail.
    const responses = await Promise.all(paths.map((path) => fetch(new URL(path, url()), { headers: { 'user-agent': 'outbox-test' } })));

    for (const response of responses) expect(response.status).toBe(200);
    expect(await responses[0]!.text()).toContain(`(${delivery})`);
    const events = await collector.waitForEvents(paths.length);
    expect(events.map((e) => e.properties?.path).sort()).toEqual([...paths].sort());
    expect(events.every((e) => e.name === 'page_view' && e.sourceId === 'worker-demo' && e.properties?.userAgent === 'outbox-test')).toBe(true);
    expect([...countIds(events).values()].every((n) => n === 1)).toBe(true);
    expect(await collector.stats()).toMatchObject({ accepted: paths.length, duplicates: 0 });
  });
});
