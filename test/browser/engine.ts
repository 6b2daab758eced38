// The engine-neutral browser harness: one small interface over Chromium (playwright-core),
// Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK (W3C WebDriver, MiniBrowser
// under Xvfb), so a scenario is written once and run in every engine with `describe.each(engines)`.
import type { EngineName } from './engine-names.js';

export { engines, allEngines, type EngineName } from './engine-names.js';

/** How far `goto()` waits: the `load` event (default) or only the parsed document. */
export interface GotoOptions {
  waitUntil?: 'load' | 'domcontentloaded';
}

/** A tab. Commands on one tab run in order; tabs of one context may be driven concurrently. */
export interface EnginePage {
  /** Navigates this tab (the previous document gets its page-hide events). */
  goto(url: string, options?: GotoOptions): Promise<void>;
  /** Reloads like the user's reload button, waiting for `load`. */
  reload(): Promise<void>;
  /**
   * Runs `fn(arg)` in the page and resolves with its (awaited) result, through JSON: pass and
   * return plain data only. `fn` is sent as source text, so it must not use variables of the
   * test's scope. A rejection in the page rejects with its message.
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn(arg)` in the page every 50 ms until it returns a truthy value; rejects after `timeoutMs` (default 10 s). */
  waitForFunction<A = undefined>(fn: (arg: A) => unknown, arg?: A, timeoutMs?: number): Promise<void>;
  /**
   * Makes the page believe it was hidden (`visibilityState` 'hidden', then `visibilitychange`):
   * automation never hides a tab for real in these engines.
   */
  hide(): Promise<void>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Buffer>;
  /** Closes the tab so its `pagehide`/`visibilitychange` handlers run. Idempotent. */
  close(): Promise<void>;
}

/** One profile: tabs share its storage, Web Locks and BroadcastChannel. */
export interface EngineContext {
  readonly engine: EngineName;
  /** A new tab (a new top-level window in WebKit), at `url` when given. */
  newPage(url?: string, options?: GotoOptions): Promise<EnginePage>;
  /** Closes every tab (their page-hide handlers run), then the profile. Idempotent. */
  close(): Promise<void>;
}

/** A running engine, the parent of fresh, isolated contexts. */
export interface EngineBrowser {
  readonly engine: EngineName;
  /** Product and version, e.g. 'Chromium 156.0…', 'Firefox 153.0…', 'WebKitGTK 2.50.…'. */
  readonly version: string;
  /** A fresh context with empty storage. */
  newContext(): Promise<EngineContext>;
  /** Closes every context (page-hide handlers run), then the engine. Idempotent. */
  close(): Promise<void>;
}

/** A context on a profile directory, reopened later on the same directory with its storage. */
export interface PersistentContext extends EngineContext {
  readonly version: string;
}

/**
 * Starts `engine`. Chromium ~0.3 s, Firefox ~4 s, WebKit ~1 s (plus Xvfb once per process when no
 * DISPLAY is set).
 */
export async function launchEngine(engine: EngineName): Promise<EngineBrowser> {
  switch (engine) {
    case 'chromium':
      return (await import('./engine-chromium.js')).launchChromium();
    case 'firefox':
      return (await import('./engine-firefox.js')).launchFirefox();
    case 'webkit':
      return (await import('./engine-webkit.js')).launchWebKit();
  }
}

/**
 * Whether `launchPersistent` works for `engine`. WebKit does not: MiniBrowser in `--automation`
 * mode keeps website data in memory only (an ephemeral data manager), so storage lives as long as
 * the context; reopen a tab in the same context instead.
 */
export const hasPersistentProfile = (engine: EngineName): boolean => engine !== 'webkit';

/**
 * Whether the test can drive a page before its `load` event (`goto(url, { waitUntil:
 * 'domcontentloaded' })`, then evaluate). WebKit cannot: WebKitWebDriver never answers a script
 * sent while the document is loading, so its navigations return after `load`.
 */
export const supportsPreLoadScripts = (engine: EngineName): boolean => engine !== 'webkit';

/** Opens a context whose storage lives in `dir` (see `hasPersistentProfile`). */
export async function launchPersistent(engine: EngineName, dir: string): Promise<PersistentContext> {
  switch (engine) {
    case 'chromium':
      return (await import('./engine-chromium.js')).launchChromiumPersistent(dir);
    case 'firefox':
      return (await import('./engine-firefox.js')).launchFirefoxPersistent(dir);
    case 'webkit':
      throw new Error('[harness] webkit: MiniBrowser --automation has no persistent profile (its website data is ephemeral); check hasPersistentProfile()');
  }
}

/** Makes the page believe it is hidden; shared by every engine's `hide()`. */
export function hideInPage(): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  document.dispatchEvent(new Event('visibilitychange'));
}
