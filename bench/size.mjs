// Bundle sizes: min + gzip at level 9 (zlib, the same deflate as `gzip -9`; gzip's header may
// add a file name, a few bytes). Every byte of the script tag ships on every page view.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

/** Raw and min+gzip bytes of a file. */
export function sizeOf(file) {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

function gz(text) {
  return gzipSync(Buffer.from(text), { level: 9 }).length;
}

/** The entry the IIFE is built from (src/entries/browser.ts when it exists). */
function iifeEntry(root) {
  const browser = join(root, 'src/entries/browser.ts');
  return existsSync(browser) ? browser : join(root, 'src/index.ts');
}

async function build(root, options) {
  const result = await esbuild.build({
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'Outbox',
    platform: 'browser',
    target: 'es2020',
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    absWorkingDir: root,
    ...options,
  });
  const text = result.outputFiles[0].text;
  return { text, gzip: gz(text), raw: Buffer.byteLength(text), metafile: result.metafile };
}

/**
 * Where the script tag's bytes go. The IIFE entry is rebuilt with esbuild (its minifier differs a
 * little from the project's terser build), then once per dependency with that dependency left
 * out: the difference is what the dependency costs min+gzip, its share of the compressed whole.
 * Also the minified bytes of each source module, and the bundle of `createTracker` alone.
 */
export async function sizeBreakdown(root) {
  const entryPoints = [iifeEntry(root)];
  const full = await build(root, { entryPoints });
  const deps = {};
  for (const dep of ['ky', 'fflate', 'idb-keyval']) {
    const without = await build(root, { entryPoints, external: [dep] });
    deps[dep] = full.gzip - without.gzip;
  }
  deps['outbox (own code)'] = full.gzip - Object.values(deps).reduce((a, b) => a + b, 0);
  const output = Object.values(full.metafile.outputs)[0];
  const modules = Object.entries(output.inputs)
    .map(([file, info]) => ({ file: file.replace(/^.*node_modules\//, ''), minBytes: info.bytesInOutput }))
    .filter((m) => m.minBytes > 0)
    .sort((a, b) => b.minBytes - a.minBytes);
  const createTrackerOnly = await build(root, {
    stdin: { contents: `export { createTracker } from './src/index.ts';`, resolveDir: root, loader: 'ts' },
  });
  return {
    entry: entryPoints[0].slice(root.length),
    esbuildGzip: full.gzip,
    esbuildRaw: full.raw,
    deps,
    modules,
    createTrackerOnlyGzip: createTrackerOnly.gzip,
  };
}
