// Vitest hooks around the engine harness: one engine per describe block, launched once.
import { afterAll, beforeAll } from 'vitest';
import { launchEngine, type EngineBrowser, type EngineName } from './engine.js';

/**
 * Launches `engine` before the block's tests and closes it after. Read `.browser` inside tests
 * and hooks (it is undefined before `beforeAll` ran).
 */
export function useEngine(engine: EngineName): { readonly browser: EngineBrowser } {
  let browser: EngineBrowser | undefined;
  beforeAll(async () => {
    browser = await launchEngine(engine);
  });
  afterAll(() => browser?.close());
  return {
    get browser() {
      if (!browser) throw new Error(`[harness] ${engine} is not launched yet: read .browser inside a test or hook`);
      return browser;
    },
  };
}
