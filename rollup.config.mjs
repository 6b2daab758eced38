// Builds the library (ESM + CJS, one file per public entry so adapters stay out of bundles that
// do not import them) and the minified IIFE for <script> tags. Types come from `tsc` (see build).
import esbuild from 'rollup-plugin-esbuild';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const entries = {
  index: 'src/index.ts',
  'storage/indexeddb': 'src/storage/indexeddb.ts',
  'storage/workers-kv': 'src/storage/workers-kv.ts',
  'transport/queues': 'src/transport/queues.ts',
  'entries/worker': 'src/entries/worker.ts',
  'feed-reader': 'src/feed-reader.ts',
  'sign/hmac': 'src/sign/hmac.ts',
};
import { existsSync } from 'node:fs';
const input = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));
const external = ['fflate', 'idb-keyval', 'cloudflare:workers'];
// ky is not a dependency: see docs/design.md (it was a quarter of the script tag).
const ts = () => esbuild({ target: 'es2022', sourceMap: false });

export default [
  {
    input,
    external,
    plugins: [ts()],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', interop: 'auto' },
    ],
  },
  {
    input: existsSync('src/entries/browser.ts') ? 'src/entries/browser.ts' : 'src/index.ts',
    plugins: [resolve({ browser: true }), ts()],
    output: {
      file: 'dist/outbox.iife.js',
      format: 'iife',
      name: 'Outbox',
      inlineDynamicImports: true,
      plugins: [terser({ ecma: 2020, compress: { passes: 3, unsafe_arrows: true }, mangle: { properties: false } })],
    },
  },
];
