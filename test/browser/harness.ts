// Real-browser test harness: a static server for the built bundle and test pages, and the
// reference collector on another port so every request from the page is cross-origin. Engines
// are driven through engine.ts (all three); the Chromium-only helpers below stay for the
// Chromium-only scenarios (CDP, SIGKILL, fetchLater).
import { createServer, type Server } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, beforeEach } from 'vitest';
import { startCollector } from '../../demo/collector/collector.mjs';
import { chromiumArgs, chromiumPath } from './chromium-launch.js';

/** The reference collector, as the browser tests use it. */
export type Collector = Awaited<ReturnType<typeof startCollector>>;

export { chromiumPath, chromiumArgs };

const root = new URL('../..', import.meta.url).pathname;
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

export interface PageServer {
  url: string;
  /** Serves `html` at `path` (e.g. '/t/reload.html') until the server closes. */
  page(path: string, html: string): string;
  /** Serves `body` at `path` with `contentType` (a script for an import map, say) until the server closes. */
  asset(path: string, body: string, contentType: string): string;
  /**
   * Runs `source` first in every HTML page served from now on (null: none), as a first inline
   * script: the engine-neutral form of an init script (WebDriver classic has none).
   */
  initScript(source: string | null): void;
  close(): Promise<void>;
}

/**
 * Serves the repository read-only (`/dist/outbox.iife.js`, `/demo/web/...`) plus pages
 * registered with `page()`. `/blank.html` loads the IIFE, so `window.Outbox` is ready.
 */
export async function startPageServer(): Promise<PageServer> {
  const pages = new Map<string, string>([
    ['/blank.html', '<!doctype html><meta charset="utf-8"><title>outbox test</title><script src="/dist/outbox.iife.js"></script><body>test page</body>'],
  ]);
  let init: string | null = null;
  // After the doctype, so the page keeps standards mode.
  const withInit = (html: string) => (init === null ? html : html.replace(/^(\s*<!doctype html>)?/i, (doctype) => `${doctype}<script>${init}</script>`));
  const assets = new Map<string, { body: string; contentType: string }>();
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const asset = assets.get(path);
    if (asset !== undefined) {
      res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-store' });
      return res.end(asset.body);
    }
    const inline = pages.get(path);
    if (inline !== undefined) {
      res.writeHead(200, { 'content-type': types['.html']!, 'cache-control': 'no-store' });
      return res.end(withInit(inline));
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || file.includes('node_modules')) return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(extname(file) === '.html' ? withInit(body.toString('utf8')) : body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    page(path, html) {
      pages.set(path, html);
      return url + path;
    },
    asset(path, body, contentType) {
      assets.set(path, { body, contentType });
      return url + path;
    },
    initScript(source) {
      init = source;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A fresh headless Chromium. Close pages or contexts before `browser.close()`: a bare close runs no unload handlers. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/** A temporary profile directory, for contexts that must survive a restart. */
export async function tempProfile(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-profile-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A persistent context on `dir` (IndexedDB survives closing it, and a SIGKILL of the browser). */
export function launchPersistent(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { executablePath: chromiumPath, args: chromiumArgs });
}

/**
 * Makes the page believe it was hidden. A headless page never becomes hidden for real
 * (toolchain.md), so this overrides `visibilityState` and dispatches `visibilitychange`.
 */
export async function hidePage(page: Page): Promise<void> {
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
}

/** Ids counted by how often the collector saw them (accepted + duplicates), for duplicate reports. */
export function countIds(ids: readonly string[]): { unique: number; duplicates: number } {
  const set = new Set(ids);
  return { unique: set.size, duplicates: ids.length - set.size };
}

/**
 * Starts a fresh reference collector before each test of the file (handed to `use`) and closes it
 * after. Never one shared collector reset between tests: a page closed at the end of one test may
 * still send (its unload path re-sends what was in flight; a latency fault or a killed browser
 * leaves requests hanging), and that late request must not count towards the next test.
 */
export function collectorPerTest(use: (collector: Collector) => void): void {
  let current: Collector | undefined;
  beforeEach(async () => use((current = await startCollector({ port: 0, quiet: true }))));
  afterEach(() => current?.close());
}
