// The `collector-worker` project: outbox/collector inside workerd (@cloudflare/vitest-pool-workers),
// its partitions real Durable Objects with SQLite storage. Run alone:
//   npx vitest run --config test/collector-worker/vitest.config.mts
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root: repo,
  resolve: {
    alias: [{ find: /^outbox\/collector$/, replacement: `${repo}/src/entries/collector.ts` }],
  },
  plugins: [
    cloudflareTest({
      // Exports CollectorPartition, the class the binding below names; tests build collectors
      // with their own options around the same binding.
      main: './test/collector-worker/fixture-worker.ts',
      miniflare: {
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
        durableObjects: { OUTBOX_PARTITIONS: { className: 'CollectorPartition', useSQLite: true } },
        // Local Analytics Engine accepts writes (and keeps nothing): the collector writes to it as deployed.
        analyticsEngineDatasets: { OUTBOX_ANALYTICS: { dataset: 'outbox_collector' } },
      },
    }),
  ],
  test: {
    name: 'collector-worker',
    root: repo,
    include: ['test/collector-worker/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
