// Also a Worker, bundled the way wrangler resolves packages (export conditions workerd, worker,
// browser): it must carry none of the browser parts, not even lazily.
// A single-page app that imports only createTracker, with memory storage, must not ship
// idb-keyval: the IndexedDB adapter is a lazy import() (src/platform/defaults.ts), so a bundler
// puts it in a chunk of its own that such an app never fetches. Bundles dist/index.js the way an
// app's bundler would (rollup, node-resolve, terser) and prints what the entry costs.
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { rollup, type OutputChunk } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const dist = new URL('../../dist/index.js', import.meta.url).pathname;
const entry = `
  import { createTracker } from ${JSON.stringify(dist)};
  const tracker = createTracker({ endpoint: '/v1/batch', storage: false });
  tracker.track('page_view', { path: location.pathname });
`;

// idb-keyval's own code: what a bundle that carries it cannot avoid containing.
const idbMarkers = ['createObjectStore', 'indexedDB.open'];

it('createTracker with storage: false bundles without idb-keyval, which stays in a lazy chunk', async () => {
  expect(existsSync(dist), 'dist/index.js is missing: run `npm run build` first').toBe(true);
  const bundle = await rollup({
    input: 'app-entry',
    plugins: [
      { name: 'app-entry', resolveId: (id) => (id === 'app-entry' ? id : null), load: (id) => (id === 'app-entry' ? entry : null) },
      resolve({ browser: true }),
    ],
    onwarn: () => {},
  });
  const { output } = await bundle.generate({ format: 'es', plugins: [terser({ ecma: 2020, compress: { passes: 2 } })] });
  await bundle.close();
  const chunks = output.filter((file): file is OutputChunk => file.type === 'chunk');
  const main = chunks.find((chunk) => chunk.isEntry)!;
  const lazy = chunks.filter((chunk) => chunk.isDynamicEntry);

  for (const marker of idbMarkers) expect(main.code).not.toContain(marker);
  expect(lazy.some((chunk) => idbMarkers.every((marker) => chunk.code.includes(marker)))).toBe(true);
  expect(main.code).toContain('import(');

  const size = (code: string) => gzipSync(code, { level: 9 }).length;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;
  console.log(
    `[tree-shaking] createTracker + memory storage: ${kb(main.code.length)} min, ${kb(size(main.code))} min+gzip; ` +
      `lazy IndexedDB chunk (never fetched here): ${lazy.map((chunk) => kb(size(chunk.code))).join(', ')} min+gzip`,
  );
  // A budget, so that a change which drags a large dependency into every app fails here.
  expect(size(main.code)).toBeLessThan(20 * 1024);
});

// What only the browser parts contain: the unload path, tab coordination, idb-keyval.
const browserMarkers = ['sendBeacon', 'visibilitychange', 'navigator.locks', ...idbMarkers];

it('a Worker importing outbox and outbox/worker bundles none of the browser parts (the workerd condition)', async () => {
  // The package by its name, as a Worker project has it in node_modules.
  const project = mkdtempSync(join(tmpdir(), 'outbox-worker-'));
  try {
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(new URL('../..', import.meta.url).pathname, join(project, 'node_modules', 'outbox'), 'dir');
    writeFileSync(
      join(project, 'worker.js'),
      `import { createTracker } from 'outbox';
      import { withTracker } from 'outbox/worker';
      const plain = { async fetch() { const tracker = createTracker({ endpoint: 'https://c.example/v1/batch' }); tracker.track('hit'); await tracker.close(); return new Response('ok'); } };
      export default { plain, wrapped: withTracker({ endpoint: 'https://c.example/v1/batch' }, { fetch: async (request, env, ctx, tracker) => (tracker.track('hit'), new Response('ok')) }) };`,
    );
    const bundle = await rollup({
      input: join(project, 'worker.js'),
      external: ['cloudflare:workers'],
      plugins: [resolve({ browser: true, exportConditions: ['workerd', 'worker', 'browser'] })],
      onwarn: () => {},
    });
    const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: true, plugins: [terser({ ecma: 2020, compress: { passes: 2 } })] });
    await bundle.close();
    const code = output[0].code;
    for (const marker of browserMarkers) expect(code, marker).not.toContain(marker);
    expect(code).toContain('waitUntil');
    const bytes = gzipSync(code, { level: 9 }).length;
    console.log(`[tree-shaking] a Worker with outbox and outbox/worker: ${(bytes / 1024).toFixed(2)} KB min+gzip`);
    // 11.5 KB when written; 13.4 KB after issue 9 (validating replies, stored state, options and
    // events against wire.ts); the browser parts would add ~3.8 KB more.
    expect(bytes).toBeLessThan(14 * 1024);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
