// WebKitGTK through W3C WebDriver: /usr/bin/WebKitWebDriver driving MiniBrowser in automation
// mode under Xvfb (MiniBrowser has no headless mode). One driver process and session per context.
// Tabs are top-level windows of type 'window' (a 'tab' opens hidden in the background), and a
// keeper window stays open so closing the last test tab does not end the session.
import { createServer } from 'node:net';
import type { EngineBrowser, EngineContext, EnginePage, GotoOptions } from './engine.js';
import { hideInPage } from './engine.js';
import { createSession, waitReady, type WebDriverSession } from './webdriver-client.js';
import { ensureDisplay } from './xvfb.js';
import { spawnTied, type TiedProcess } from './tied-process.js';

/** The WebDriver server (WEBKIT_WEBDRIVER_PATH overrides). */
export const webkitDriverPath = process.env.WEBKIT_WEBDRIVER_PATH ?? '/usr/bin/WebKitWebDriver';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts the page function from a synchronous script and keeps its settled result in the page;
// `pollScript` reads it. Asynchronous scripts (execute/async) now and then never called back in
// MiniBrowser under Xvfb, which blocked the session for the whole script timeout.
function startScript(id: string, source: string, arg: unknown): string {
  return `const __name = (f) => f; // esbuild's keepNames helper, should the test's transform add it
const slots = (window.__harness = window.__harness || {});
const slot = (slots[${JSON.stringify(id)}] = { done: false });
Promise.resolve().then(() => (${source})(${JSON.stringify(arg ?? null)})).then(
  (value) => Object.assign(slot, { done: true, ok: true, undefined: value === undefined, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) }),
  (error) => Object.assign(slot, { done: true, ok: false, error: error instanceof Error ? error.name + ': ' + error.message + '\\n' + error.stack : String(error) }));
return true;`;
}

function pollScript(id: string): string {
  return `const slot = (window.__harness || {})[${JSON.stringify(id)}];
if (!slot) return { gone: true };
if (slot.done) delete window.__harness[${JSON.stringify(id)}];
return slot;`;
}

let scripts = 0;

/** WebKit's driver runs no script before `load` (see pageLoadStrategy): refuse to pretend it can. */
function loadOnly(options?: GotoOptions): void {
  if (options?.waitUntil === 'domcontentloaded') {
    throw new Error("[harness] webkit: waitUntil 'domcontentloaded' is not supported: WebKitWebDriver runs no script while the document is loading (it hangs); check supportsPreLoadScripts(engine)");
  }
}

interface Driver {
  session: WebDriverSession;
  /** The session's first window, never closed: closing the last window would end the session. */
  keeper: string;
  /** Tells the driver that the current window was closed. */
  closed(): void;
  process: TiedProcess;
  /** Runs `task` with `handle` as the session's current window (any window when undefined); one task at a time. */
  inWindow<T>(handle: string | undefined, task: () => Promise<T>): Promise<T>;
}

async function startDriver(): Promise<Driver> {
  const display = await ensureDisplay();
  const port = await freePort();
  // Without a GPU, WebKitGTK's DMA-BUF renderer and compositing under Xvfb hung a fresh
  // MiniBrowser now and then (1 in 6 sessions: no reply to navigation or scripts); 0 in 12 without.
  const env = { ...process.env, DISPLAY: display, GDK_BACKEND: 'x11', WEBKIT_DISABLE_DMABUF_RENDERER: '1', WEBKIT_DISABLE_COMPOSITING_MODE: '1' };
  const tied = spawnTied(webkitDriverPath, [`--port=${port}`, '--host=127.0.0.1'], env);
  const child = tied.process;
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  let session: WebDriverSession;
  let keeper: string;
  try {
    await waitReady(base, 15_000);
    session = await createSession(base, {
      browserName: 'MiniBrowser',
      // normal: navigation returns after `load`. A script sent while the document is still
      // loading (an async script pending) never returns in WebKitGTK 2.50, and blocks the session.
      pageLoadStrategy: 'normal',
      'webkitgtk:browserOptions': { args: ['--automation'] },
    });
    // Scripts are short (evaluate polls): a script that takes 5 s is a hung window.
    await session.command('POST', '/timeouts', { script: 5_000, pageLoad: 60_000 });
    keeper = await session.command<string>('GET', '/window');
  } catch (error) {
    await tied.stop();
    throw new Error(`${String(error)}${stderr ? `\nWebKitWebDriver: ${stderr.trim()}` : ''}`);
  }
  let current: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    session,
    keeper,
    closed() {
      current = undefined; // the closed window was current; the next command switches
    },
    process: tied,
    inWindow(handle, task) {
      const run = queue.then(async () => {
        if (handle !== undefined && current !== handle) {
          await session.command('POST', '/window', { handle });
          current = handle;
        }
        return task();
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

function wrapPage(driver: Driver, handle: string, onClosed: () => void): EnginePage & { open(url: string, options?: GotoOptions): Promise<void> } {
  const { session } = driver;
  let closed = false;
  // Started and polled in separate commands, so other tabs' commands run in between.
  const evaluate = async <R>(fn: (arg: never) => unknown, arg?: unknown): Promise<R> => {
    const id = `s${++scripts}`;
    await driver.inWindow(handle, () => session.command('POST', '/execute/sync', { script: startScript(id, fn.toString(), arg), args: [] }));
    for (let wait = 2; ; wait = Math.min(wait * 2, 25)) {
      type Slot = { gone?: true; done?: boolean; ok?: boolean; undefined?: boolean; value?: R; error?: string };
      const slot = await driver.inWindow(handle, () => session.command<Slot>('POST', '/execute/sync', { script: pollScript(id), args: [] }));
      if (slot.gone) throw new Error('[harness] webkit evaluate: the page navigated before the function settled');
      if (slot.done) {
        if (!slot.ok) throw new Error(`[harness] webkit evaluate: ${slot.error}`);
        return (slot.undefined ? undefined : slot.value) as R;
      }
      await sleep(wait);
    }
  };
  const loaded = async (timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    // An error while the new document replaces the old one counts as "still loading".
    while ((await evaluate<string>(() => document.readyState).catch((error: unknown) => ((last = error), 'loading'))) !== 'complete') {
      if (Date.now() > deadline) throw new Error(`[harness] webkit: no load event within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
      await sleep(25);
    }
  };
  const page: EnginePage & { open(url: string, options?: GotoOptions): Promise<void> } = {
    async goto(url: string, options?: GotoOptions) {
      loadOnly(options);
      await driver.inWindow(handle, () => session.command('POST', '/url', { url }));
      await loaded();
    },
    // The first navigation of a new window, with a shorter wait for scripts to answer (see newPage).
    async open(url: string, options?: GotoOptions) {
      loadOnly(options);
      await driver.inWindow(handle, () => session.command('POST', '/url', { url }));
      await loaded(20_000);
    },
    async reload() {
      await driver.inWindow(handle, () => session.command('POST', '/refresh'));
      await loaded();
    },
    evaluate: (fn, arg) => evaluate(fn as (arg: never) => unknown, arg),
    async waitForFunction(fn, arg, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        // An error (the page is navigating) counts as "not yet", as in Playwright and Puppeteer.
        const value = await evaluate(fn as (arg: never) => unknown, arg).catch((error: unknown) => ((last = error), false));
        if (value) return;
        if (Date.now() > deadline) throw new Error(`[harness] webkit waitForFunction: not true within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
        await sleep(50);
      }
    },
    hide: () => evaluate(hideInPage),
    screenshot: async () => Buffer.from(await driver.inWindow(handle, () => session.command<string>('GET', '/screenshot')), 'base64'),
    async close() {
      if (closed) return;
      closed = true;
      await driver.inWindow(handle, async () => {
        await session.command('DELETE', '/window');
        driver.closed();
      });
      onClosed();
    },
  };
  return page;
}

async function newContext(): Promise<EngineContext & { version: string }> {
  const driver = await startDriver();
  const version = `WebKitGTK ${String(driver.session.capabilities.browserVersion ?? '(version unknown)')}`;
  const { session } = driver;
  const pages = new Set<EnginePage>();
  let closing: Promise<void> | undefined;
  return {
    engine: 'webkit',
    version,
    async newPage(url, options) {
      for (let attempt = 1; ; attempt++) {
        // From the keeper: the current window may have been closed.
        const { handle } = await driver.inWindow(driver.keeper, () => session.command<{ handle: string }>('POST', '/window/new', { type: 'window' }));
        const page = wrapPage(driver, handle, () => pages.delete(page));
        pages.add(page);
        if (url === undefined) return page;
        try {
          await page.open(url, options);
          return page;
        } catch (error) {
          // Now and then (about 1 window in 40 here) MiniBrowser runs no WebDriver script in a new
          // window at all: close it and open another, once, and say so.
          await page.close().catch(() => undefined);
          if (attempt >= 2) throw error;
          process.stderr.write(`[harness] webkit: a new window answered no script (${String(error).slice(0, 160)}); opening another\n`);
        }
      }
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...pages].map((page) => page.close().catch(() => undefined)));
        await session.delete().catch(() => undefined);
        await Promise.race([driver.process.stop(), sleep(3000)]);
      })();
      return closing;
    },
  };
}

/** WebKitGTK: each context is its own MiniBrowser with ephemeral storage. */
export async function launchWebKit(): Promise<EngineBrowser> {
  // The first context starts now: it tells the version, and the first newContext() takes it.
  let spare: EngineContext | undefined = await newContext();
  const contexts: EngineContext[] = [spare];
  let closing: Promise<void> | undefined;
  return {
    engine: 'webkit',
    version: (spare as EngineContext & { version: string }).version,
    async newContext() {
      if (spare) {
        const context = spare;
        spare = undefined;
        return context;
      }
      const context = await newContext();
      contexts.push(context);
      return context;
    },
    close() {
      closing ??= Promise.all(contexts.map((c) => c.close().catch(() => undefined))).then(() => undefined);
      return closing;
    },
  };
}
