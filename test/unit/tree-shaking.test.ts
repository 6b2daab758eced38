// A single-page app that imports only createTracker, with memory storage, must not ship
// idb-keyval: the IndexedDB adapter is a lazy import() (src/platform/defaults.ts), so a bundler
// puts it in a chunk of its own that such an app never fetches. Bundles dist/index.js the way an
// app's bundler would (rollup, node-resolve, terser) and prints what the entry costs.
import { existsSync } from 'node:fs';
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
