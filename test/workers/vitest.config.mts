// The `workers` project: tests that run inside workerd through @cloudflare/vitest-pool-workers
// (vitest 4 plugin API), against the reference collector on 127.0.0.1 (started in Node by
// global-setup.ts). Run alone: npx vitest run --config test/workers/vitest.config.mts
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  // Paths below are relative to the repository, whichever config (root or this one) is loaded.
  root: repo,
  resolve: {
    // Tests import the package's public entries by name, as a Worker would; here they are the
    // sources (no build needed), 'outbox' as the `workerd` export condition resolves it. Exact
    // matches: 'outbox' must not swallow 'outbox/worker'.
    alias: [
      { find: /^outbox$/, replacement: `${repo}/src/entries/workerd.ts` },
      { find: /^outbox\/worker$/, replacement: `${repo}/src/entries/worker.ts` },
      { find: /^outbox\/storage\/workers-kv$/, replacement: `${repo}/src/storage/workers-kv.ts` },
      { find: /^outbox\/transport\/queues$/, replacement: `${repo}/src/entries/queues.ts` },
    ],
  },
  plugins: [
    cloudflareTest(({ inject }) => ({
      // The Worker the tests run next to: its `queue` handler is the local queue's consumer.
      main: './test/workers/fixture-worker.ts',
      miniflare: {
        compatibilityDate: '2026-04-01',
        // The test runner itself needs Node APIs; the code under test does not (the demo Worker,
        // started without this flag in global-setup.ts, proves it).
        compatibilityFlags: ['nodejs_compat'],
        kvNamespaces: ['OUTBOX_KV'],
        queueProducers: { OUTBOX_EVENTS: { queueName: 'outbox-events' } },
        // maxBatchTimeout 0: deliver at once, so a test does not wait for the batch window.
        queueConsumers: { 'outbox-events': { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 5 } },
        bindings: {
          COLLECTOR_ENDPOINT: inject('collectorEndpoint'),
          CONTROL_URL: inject('controlUrl'),
          DEMO_URL: inject('demoUrl'),
          DEMO_QUEUE_URL: inject('demoQueueUrl'),
        },
      },
    })),
  ],
  test: {
    name: 'workers',
    // test.root too: as one of the root config's projects, vitest would root it at test/workers.
    root: repo,
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/workers/global-setup.ts'],
    // One collector and one KV namespace for all files: run the files one after another.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
