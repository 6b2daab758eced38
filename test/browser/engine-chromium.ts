// Chromium through playwright-core: Debian's /usr/bin/chromium with the flags of toolchain.md.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { EngineBrowser, EngineContext, EnginePage, GotoOptions, PersistentContext } from './engine.js';
import { hideInPage } from './engine.js';
import { chromiumArgs, chromiumPath } from './chromium-launch.js';

function wrapPage(page: Page): EnginePage {
  let closed = false;
  return {
    goto: async (url, options?: GotoOptions) => void (await page.goto(url, { waitUntil: options?.waitUntil ?? 'load' })),
    reload: async () => void (await page.reload()),
    evaluate: (fn, arg) => page.evaluate(fn as (arg: unknown) => never, arg),
    waitForFunction: async (fn, arg, timeoutMs = 10_000) => void (await page.waitForFunction(fn as (arg: unknown) => unknown, arg, { timeout: timeoutMs, polling: 50 })),
    hide: () => page.evaluate(hideInPage),
    screenshot: () => page.screenshot({ fullPage: true }),
    async close() {
      if (closed) return;
      closed = true;
      // runBeforeUnload makes Playwright close the tab as the user does, with the unload events.
      await page.close({ runBeforeUnload: true });
      if (!page.isClosed()) await page.waitForEvent('close');
    },
  };
}

/**
 * A Playwright context as an EngineContext, for Chromium-only scenarios that need Playwright
 * itself (CDP, offline emulation, a SIGKILL) around engine-neutral helpers.
 */
export function chromiumContext(context: BrowserContext, onClose: () => Promise<void> = async () => undefined): EngineContext {
  const pages: EnginePage[] = [];
  let closing: Promise<void> | undefined;
  return {
    engine: 'chromium',
    async newPage(url, options) {
      const page = wrapPage(await context.newPage());
      pages.push(page);
      if (url !== undefined) await page.goto(url, options);
      return page;
    },
    close() {
      closing ??= (async () => {
        await Promise.all(pages.map((page) => page.close().catch(() => undefined)));
        await context.close();
        await onClose();
      })();
      return closing;
    },
  };
}

/** A headless Chromium; each context is a fresh incognito-like profile. */
export async function launchChromium(): Promise<EngineBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const contexts: EngineContext[] = [];
  let closing: Promise<void> | undefined;
  return {
    engine: 'chromium',
    version: `Chromium ${browser.version()}`,
    async newContext() {
      const context = chromiumContext(await browser.newContext(), async () => undefined);
      contexts.push(context);
      return context;
    },
    close() {
      // A bare browser.close() runs no unload handlers (toolchain.md): contexts first.
      closing ??= Promise.all(contexts.map((c) => c.close().catch(() => undefined))).then(() => browser.close());
      return closing;
    },
  };
}

/** A Chromium on profile `dir`: IndexedDB survives closing it (and a SIGKILL). */
export async function launchChromiumPersistent(dir: string): Promise<PersistentContext> {
  const context = await chromium.launchPersistentContext(dir, { executablePath: chromiumPath, args: chromiumArgs });
  // The persistent context opens with one blank tab; it stays, as a user's browser window would.
  const version = `Chromium ${context.browser()?.version() ?? ''}`.trim();
  return { ...chromiumContext(context, async () => undefined), version };
}
