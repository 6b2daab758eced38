import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `root` pins the include pattern to the repository: as a project of the root config, vitest
// would otherwise resolve it from this folder and find no tests.
export default defineConfig({
  test: {
    name: 'collector',
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/collector/**/*.test.{ts,mjs}'],
    testTimeout: 30000,
  },
});
