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

// Runs the page function as an async script: JSON in, JSON out, errors as values so that a
// rejection in the page reads as the page's error, not as a WebDriver one.
function evaluateScript(source: string, arg: unknown): string {
  return `const done = arguments[arguments.length - 1];
const __name = (f) => f; // esbuild's keepNames helper, should the test's transform add it
Promise.resolve().then(() => (${source})(${JSON.stringify(arg ?? null)})).then(
  (value) => done(value === undefined ? { ok: true, undefined: true } : { ok: true, value }),
  (error) => done({ ok: false, error: error instanceof Error ? error.name + ': ' + error.message + '\\n' + error.stack : String(error) }));`;
}

interface Driver {
  session: WebDriverSession;
  process: TiedProcess;
  /** Runs `task` with `handle` as the session's current window (any window when undefined); one task at a time. */
  inWindow<T>(handle: string | undefined, task: () => Promise<T>): Promise<T>;
}

async function startDriver(): Promise<Driver> {
  const display = await ensureDisplay();
  const port = await freePort();
  const tied = spawnTied(webkitDriverPath, [`--port=${port}`, '--host=127.0.0.1'], { ...process.env, DISPLAY: display, GDK_BACKEND: 'x11' });
  const child = tied.process;
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  let session: WebDriverSession;
  try {
    await waitReady(base, 15_000);
    session = await createSession(base, {
      browserName: 'MiniBrowser',
      // eager: navigation resolves at DOMContentLoaded; goto() then waits for `load` itself when
      // asked, so a page whose async script never arrives can still be driven.
      pageLoadStrategy: 'eager',
      'webkitgtk:browserOptions': { args: ['--automation'] },
    });
    await session.command('POST', '/timeouts', { script: 60_000, pageLoad: 60_000 });
  } catch (error) {
    await tied.stop();
    throw new Error(`${String(error)}${stderr ? `\nWebKitWebDriver: ${stderr.trim()}` : ''}`);
  }
  let current: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    session,
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

function wrapPage(driver: Driver, handle: string, onClosed: () => void): EnginePage {
  const { session } = driver;
  let closed = false;
  const evaluateNow = async <R>(fn: (arg: never) => unknown, arg: unknown): Promise<R> => {
    const reply = await session.command<{ ok: boolean; value?: R; undefined?: true; error?: string }>('POST', '/execute/async', { script: evaluateScript(fn.toString(), arg), args: [] });
    if (!reply || typeof reply !== 'object') throw new Error(`[harness] webkit evaluate: unexpected reply ${JSON.stringify(reply)}`);
    if (!reply.ok) throw new Error(`[harness] webkit evaluate: ${reply.error}`);
    return (reply.undefined ? undefined : reply.value) as R;
  };
  const evaluate = <R>(fn: (arg: never) => unknown, arg?: unknown) => driver.inWindow(handle, () => evaluateNow<R>(fn, arg));
  const loaded = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    // An error while the new document replaces the old one counts as "still loading".
    while ((await evaluate<string>(() => document.readyState).catch((error: unknown) => ((last = error), 'loading'))) !== 'complete') {
      if (Date.now() > deadline) throw new Error(`[harness] webkit: no load event within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
      await sleep(25);
    }
  };
  const page: EnginePage = {
    async goto(url: string, options?: GotoOptions) {
      await driver.inWindow(handle, () => session.command('POST', '/url', { url }));
      if ((options?.waitUntil ?? 'load') === 'load') await loaded();
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
      await driver.inWindow(handle, () => session.command('DELETE', '/window'));
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
      const { handle } = await driver.inWindow(undefined, () => session.command<{ handle: string }>('POST', '/window/new', { type: 'window' }));
      const page = wrapPage(driver, handle, () => pages.delete(page));
      pages.add(page);
      if (url !== undefined) await page.goto(url, options);
      return page;
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
