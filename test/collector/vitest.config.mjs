import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/collector/**/*.test.{ts,mjs}'], testTimeout: 30000 } });
