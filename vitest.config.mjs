import { defineConfig } from 'vitest/config';

// One project per kind of test, so each runs where its behaviour lives: pure units in Node (or
// happy-dom where a file asks for it), integration against the real collector on 127.0.0.1,
// browser scenarios in Debian's Chromium, Firefox ESR and WebKitGTK (test/browser/engine.ts),
// Workers scenarios in workerd.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      'test/collector/vitest.config.mjs',
      'test/workers/vitest.config.mts',
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // One browser at a time: the machine has 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
