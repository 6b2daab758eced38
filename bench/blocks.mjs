// What the building blocks of one delivery cost the page's main thread in Chromium, per
// operation on one 100-event batch (the default maxBatchEvents): a fetch to a cross-origin
// collector, gzip through CompressionStream and through fflate's gzipSync,
// an IndexedDB write of the batch through idb-keyval, and UTF-8 encoding. They explain where the
// per-event CPU of "track until delivered" goes, and what a different choice would save.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { html, openPage } from './browser.mjs';

const cases = {
  'fetch POST (raw)': async (b) => {
    const response = await fetch(`${b.endpoint}?rid=x`, { method: 'POST', body: b.body });
    await response.text();
  },
  'gzip: CompressionStream': async (b) => {
    const stream = new Blob([b.body]).stream().pipeThrough(new CompressionStream('gzip'));
    await new Response(stream).arrayBuffer();
  },
  'gzip: fflate gzipSync': async (b) => {
    b.M.gzipSync(b.body);
  },
  'IndexedDB set (idb-keyval)': async (b) => {
    await b.M.set(`k${b.i++ % 4}`, b.text, b.store);
  },
  'TextEncoder.encode': async (b) => {
    b.encoder.encode(b.text);
  },
};

/** Bundles fflate and idb-keyval (the project's own copies) for the page. */
export async function bundleBlocks(root, outDir) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'blocks.js');
  await esbuild.build({
    stdin: {
      contents: `import { gzipSync } from 'fflate'; import { set, createStore } from 'idb-keyval'; window.M = { gzipSync, set, createStore };`,
      resolveDir: root,
    },
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** Main-thread CPU (ThreadTime) and wall time per operation, `ops` operations after a warm-up. */
export async function measureBlocks(browser, server, sink, { ops = 100 } = {}) {
  const tab = await openPage(browser, server.page('/blocks.html', html(['/bench-tmp/blocks.js'])));
  try {
    const bodyBytes = await tab.page.evaluate((endpoint) => {
      const events = [];
      for (let i = 0; i < 100; i++) events.push(`{"id":"k3v9q2m7x1c8b4n6${i.toString(36)}","name":"click","timestamp":${Date.now()},"properties":{"id":7}}`);
      const text = `{"sentAt":${Date.now()},"events":[${events.join(',')}]}`;
      window.B = { endpoint, text, body: new TextEncoder().encode(text), encoder: new TextEncoder(), M: window.M, store: window.M.createStore('bench-blocks', 'kv'), i: 0 };
      return window.B.body.length;
    }, sink.url);
    const results = {};
    for (const [name, fn] of Object.entries(cases)) {
      const source = fn.toString();
      const loop = async ([src, count]) => {
        const f = (0, eval)(`(${src})`);
        const t0 = performance.now();
        for (let i = 0; i < count; i++) await f(window.B);
        return performance.now() - t0;
      };
      await tab.page.evaluate(loop, [source, 20]);
      const before = await tab.clock();
      const wallMs = await tab.page.evaluate(loop, [source, ops]);
      const after = await tab.clock();
      results[name] = { cpuMs: (after.threadMs - before.threadMs) / ops, wallMs: wallMs / ops };
    }
    return { bodyBytes, ops, results };
  } finally {
    await tab.close();
  }
}
