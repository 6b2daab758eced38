// Firefox ESR through puppeteer-core 24 over WebDriver BiDi (Playwright's Firefox needs its own
// patched build, not available here; puppeteer-core 25 needs Node 22).
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import type { EngineBrowser, EngineContext, EnginePage, GotoOptions, PersistentContext } from './engine.js';
import { hideInPage } from './engine.js';

/** The Firefox binary (FIREFOX_PATH overrides). */
export const firefoxPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

function launch(userDataDir?: string): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    ...(userDataDir === undefined ? {} : { userDataDir }),
    // No update checks, telemetry or remote settings fetches: no network here, and none in tests.
    extraPrefsFirefox: { 'app.update.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false, 'network.captive-portal-service.enabled': false },
  });
}

function wrapPage(page: Page): EnginePage {
  let closed = false;
  return {
    goto: async (url, options?: GotoOptions) => void (await page.goto(url, { waitUntil: options?.waitUntil === 'domcontentloaded' ? 'domcontentloaded' : 'load' })),
    reload: async () => void (await page.reload({ waitUntil: 'load' })),
    evaluate: (fn, arg) => page.evaluate(fn as (arg: unknown) => never, arg) as never,
    waitForFunction: async (fn, arg, timeoutMs = 10_000) => void (await page.waitForFunction(fn as (arg: unknown) => unknown, { timeout: timeoutMs, polling: 50 }, arg)),
    hide: () => page.evaluate(hideInPage),
    screenshot: async () => Buffer.from(await page.screenshot({ fullPage: true })),
    async close() {
      if (closed) return;
      closed = true;
      // runBeforeUnload: the tab closes as the user closes it, with its unload events.
      await page.close({ runBeforeUnload: true });
    },
  };
}

function wrapContext(newPage: () => Promise<Page>, closeProfile: () => Promise<void>): EngineContext {
  const pages: EnginePage[] = [];
  let closing: Promise<void> | undefined;
  return {
    engine: 'firefox',
    async newPage(url, options) {
      const page = wrapPage(await newPage());
      pages.push(page);
      if (url !== undefined) await page.goto(url, options);
      return page;
    },
    close() {
      closing ??= (async () => {
        await Promise.all(pages.map((page) => page.close().catch(() => undefined)));
        await closeProfile();
      })();
      return closing;
    },
  };
}

/** A headless Firefox ESR; each context is a BiDi user context (its own storage). */
export async function launchFirefox(): Promise<EngineBrowser> {
  const browser = await launch();
  const version = `Firefox ${(await browser.version()).replace(/^firefox\//i, '')}`;
  const contexts: EngineContext[] = [];
  let closing: Promise<void> | undefined;
  return {
    engine: 'firefox',
    version,
    async newContext() {
      const context: BrowserContext = await browser.createBrowserContext();
      const wrapped = wrapContext(() => context.newPage(), () => context.close());
      contexts.push(wrapped);
      return wrapped;
    },
    close() {
      closing ??= Promise.all(contexts.map((c) => c.close().catch(() => undefined))).then(() => browser.close());
      return closing;
    },
  };
}

/** A Firefox on profile `dir`: IndexedDB survives closing and relaunching it. */
export async function launchFirefoxPersistent(dir: string): Promise<PersistentContext> {
  const browser = await launch(dir);
  const version = `Firefox ${(await browser.version()).replace(/^firefox\//i, '')}`;
  return { ...wrapContext(() => browser.newPage(), () => browser.close()), version };
}
