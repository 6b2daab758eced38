// Builds the library (ESM + CJS, one file per public entry so adapters stay out of bundles that
// do not import them) and the minified IIFE for <script> tags. Types come from `tsc` (see build).
import esbuild from 'rollup-plugin-esbuild';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { rollupInputs } from './scripts/entries.mjs';

// The public entries live in scripts/entries.mjs, with package.json's `exports` generated from them.
const entries = rollupInputs();
// fflate: only the collector's capped inflate imports it (the tracker gzips through CompressionStream).
const external = ['fflate', 'idb-keyval', 'cloudflare:workers'];
// ky (the feed reader's HTTP) is a dependency for ESM consumers; the CJS build carries its own
// copy, because ky is ESM-only and require() of ESM needs Node 20.19+ (engines says >=20).
// The tracker's send path never imports it: see docs/design.md (a quarter of the script tag).
const ts = () => esbuild({ target: 'es2022', sourceMap: false });

// Property names only outbox's own code uses (scheduler state, the core's seam with the browser
// integrations): the script tag need not spell them out (about 100 bytes gzipped), as Preact
// mangles its internals. Never a name of the public API, of anything stored (IndexedDB outlives
// a deploy) or posted between tabs (tabs may run different builds), since mangled names change
// from build to build. Some are also DOM names (remove, append, load, forget...): the list is
// explicit, so `builtins: true` below lets terser mangle them too (no DOM call uses them here).
export const internalProperties = new RegExp(
  `^(${['heldUntil', 'notBefore', 'settled', 'upTo', 'holdBack', 'setSending', 'onAcknowledged', 'rescan', 'resync', 'forgetKnown', 'saveRules', 'loadRules', 'takeActivated', 'withdrawIfHolding', 'acknowledge', 'onTracked', 'forget', 'report', 'wake', 'counters', 'integrations', 'seq', 'chunk', 'stored', 'acked', 'gone', 'attempt', 'batch', 'broken', 'nextLeaseExpiry', 'writerId', 'chunkEvents', 'maxLeaseMs', 'failures', 'maxEvents', 'maxBytes', 'maxCount', 'stopAtOversize', 'skip', 'findFetchLater', 'postKeepalive', 'queueBeacon', 'latencyTotalMs', 'acknowledgedRequests', 'queueModel', 'queueScheduler', 'queueDelivery', 'storageLink', 'platformDefaults', 'batchLimits', 'waitingBatches', 'starts', 'storeEntry', 'enqueueEntry', 'ruleMatches', 'onLeft', 'stopTimer', 'restoreRules', 'backoff', 'addLoaded', 'admit', 'allowed', 'applyReply', 'applyRules', 'arm', 'attach', 'candidates', 'cut', 'decision', 'deque', 'drainNow', 'draining', 'enqueueBatch', 'evicted', 'fly', 'flying', 'flyingEvents', 'hold', 'intake', 'isClosed', 'isFlying', 'isReady', 'isSending', 'keepLease', 'land', 'leftListeners', 'loadedDue', 'maxRescanMs', 'newBatch', 'nextFlushAt', 'nextHold', 'nextRescanAt', 'nextSeq', 'owner', 'pausedUntil', 'pump', 'refused', 'rescanBy', 'retire', 'settleWaiters', 'soon', 'startBatch', 'unbatched', 'unlink', 'ruleBook', 'ready', 'settle', 'wait', 'first', 'defer', 'append', 'remove', 'lease', 'release', 'idle', 'load', 'taken', 'prepend', 'wakeAt', 'unsure', 'options', 'linkedOutbox', 'allRules', 'dropEvents', 'onQueued', 'acknowledged', 'drainAll', 'since', 'path', 'onCorrupt', 'finish', 'cutKey', 'heldIds', 'chunkBytes'].join('|')})$`,
);

// Terser names mangled properties in the order it meets them. Given the shortest names to the most
// used ones instead (counted in the bundle just before it is minified), the script tag is smaller.
// A name the bundle already uses as a property (id, ok, at...) is never given, nor a keyword.
export const nameCache = {};
const shortNamesByUse = {
  name: 'short-names-by-use',
  renderChunk(code) {
    const taken = new Set(['do', 'if', 'in']);
    for (const [, key, property] of code.matchAll(/(?:\.|[{,]\s*)([A-Za-z_$][\w$]?)\s*[:(]|\.([A-Za-z_$][\w$]?)\b/g)) taken.add(key ?? property);
    // Terser's own order (the letters its output uses most first): names that gzip well.
    const letters = [...'tenorsicaufdlypvwmhbg$SMkxEOTANJBPqjIRLCD_zUHQWFKZGVXY'];
    // Two-letter names of the most frequent letters first: gzip codes those in fewer bits (34 B).
    const rank = (name) => Math.max(...[...name].map((c) => letters.indexOf(c)));
    const pairs = letters.flatMap((b) => letters.map((a) => a + b)).sort((x, y) => rank(x) - rank(y));
    const free = [...letters, ...pairs].filter((name) => !taken.has(name));
    // Uses as a property: read or written (.name), a key (name:), a method or getter defined.
    const uses = (name) => code.split(new RegExp(`\\.${name}\\b|\\b${name}\\s*:|^\\s*(?:async\\s+|get\\s+|\\*\\s*)?${name}\\s*\\([^)]*\\)\\s*\\{`, 'm')).length - 1;
    const names = internalProperties.source.slice(2, -2).split('|');
    const byUse = names.map((name) => [name, uses(name)]).sort((a, b) => b[1] - a[1]);
    nameCache.props = { props: Object.fromEntries(byUse.map(([name], i) => [`$${name}`, free[i]])) };
    return null;
  },
};

// The script tag is one file that loads everything at once: the lazy IndexedDB default (a dynamic
// import, so that bundles which never need it do not carry idb-keyval) only costs it a module
// namespace object and a hop. `import(spec).then((m) => m.name(args))`, where `name` is an async
// function, becomes the call `name(args)` of a static import (imports placed last keep the module
// order that gzips best; 34 B min+gzip). Code written otherwise keeps its dynamic import.
const staticImports = {
  name: 'static-imports',
  transform(code) {
    const imports = [];
    const body = code.replace(/\bimport\((['"][^'"]+['"])\)\.then\(\((\w+)\) => \2\.(\w+)\(([^()]*)\)\)/g, (_, specifier, module, name, args) => {
      imports.push(`import { ${name} as imported$${name} } from ${specifier};\n`);
      return `imported$${name}(${args})`;
    });
    return imports.length ? { code: body + '\n' + imports.join(''), map: null } : null;
  },
};

export default [
  {
    input: entries,
    external: [...external, 'ky'],
    plugins: [ts()],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
  },
  {
    input: entries,
    external,
    plugins: [resolve(), ts()],
    output: { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', interop: 'auto' },
  },
  {
    input: 'src/entries/browser.ts',
    plugins: [resolve({ browser: true }), staticImports, ts()],
    output: {
      file: 'dist/outbox.iife.js',
      format: 'iife',
      name: 'Outbox',
      inlineDynamicImports: true,
      // A namespace object the bundle may hold is internal (nothing outside can reach it), so it
      // need not be frozen; compact drops the wrapper's whitespace.
      freeze: false,
      compact: true,
      // inline: 1 inlines only simple functions (terser inlines ones with arguments and variables
      // too by default): the script tag gzips 6 B smaller. Methods kept as methods (arrows: false)
      // and comparisons left as written (comparisons: false): longer, yet 9 B smaller gzipped.
      plugins: [shortNamesByUse, terser({ ecma: 2020, compress: { passes: 4, unsafe_arrows: true, inline: 1, arrows: false, comparisons: false }, mangle: { properties: { regex: internalProperties, builtins: true } }, nameCache })],
    },
  },
];
