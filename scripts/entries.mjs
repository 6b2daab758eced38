// The package's public entry points, in one place: rollup builds one ESM and one CJS file for each,
// scripts/emit-cts-types.mjs gives each CJS file its own declarations, and package.json's
// `exports` is generated from this list (`node scripts/entries.mjs --write`; the package test
// fails when they differ). Adding an entry is one line here, then `--write`.
import { readFileSync, writeFileSync } from 'node:fs';

/** Subpath export → module under src/ (without `.ts`), built to dist/<module>.{js,cjs,d.ts,d.cts}. */
export const entries = {
  '.': 'index',
  './storage/indexeddb': 'storage/indexeddb',
  './storage/workers-kv': 'storage/workers-kv',
  './transport/queues': 'entries/queues',
  './worker': 'entries/worker',
  './feed': 'feed-reader',
  './sign': 'sign/hmac',
  './wire': 'wire',
  './collector': 'entries/collector',
};

/** Extra conditions of a subpath, before `import`/`require`: condition → module under src/. */
export const conditions = {
  // Workers resolve the main entry to a build without the browser parts (src/entries/workerd.ts).
  '.': { workerd: 'entries/workerd' },
};

/** Files exported as they are (no types: the IIFE is a script, not a module). */
export const assets = {
  './outbox.iife.js': './dist/outbox.iife.js',
  './package.json': './package.json',
};

/** Every module rollup builds as an entry: name → source file. */
export function rollupInputs() {
  const modules = [...Object.values(entries), ...Object.values(conditions).flatMap((c) => Object.values(c))];
  return Object.fromEntries(modules.map((module) => [module, `src/${module}.ts`]));
}

/** The `exports` field of package.json. Types first in each condition, as TypeScript requires. */
export function exportsField() {
  const field = {};
  for (const [subpath, module] of Object.entries(entries)) {
    const extra = Object.entries(conditions[subpath] ?? {}).map(([condition, target]) => [
      condition,
      { types: `./dist/${target}.d.ts`, default: `./dist/${target}.js` },
    ]);
    field[subpath] = {
      ...Object.fromEntries(extra),
      import: { types: `./dist/${module}.d.ts`, default: `./dist/${module}.js` },
      require: { types: `./dist/${module}.d.cts`, default: `./dist/${module}.cjs` },
    };
  }
  return { ...field, ...assets };
}

if (process.argv.includes('--write')) {
  const path = new URL('../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(path, 'utf8'));
  pkg.exports = exportsField();
  writeFileSync(path, JSON.stringify(pkg, null, 2) + '\n');
  console.log(`package.json: exports written for ${Object.keys(entries).length} entries`);
}
