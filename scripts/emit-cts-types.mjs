// CommonJS consumers need declarations TypeScript reads as CommonJS: in a `"type": "module"`
// package a `.d.ts` is ESM, so `require` resolving to it "masquerades as ESM" (arethetypeswrong).
// tsc writes the ESM declarations (dist/**/*.d.ts); this copies each to a `.d.cts` twin whose
// relative imports name `.cjs` files, so the CJS declaration tree never crosses into ESM.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
// `from './x.js'`, `import('./x.js')` and `import './x.js'`: relative specifiers only.
const relativeJs = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;

let count = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8').replace(relativeJs, (_, lead, quote, path) => `${lead}${quote}${path}.cjs${quote}`);
  writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), text);
  count++;
}
console.log(`emit-cts-types: ${count} .d.cts files`);
