// The built package, as users get it: import by name (ESM and CJS) in Node 20, the IIFE's
// global, and the script-tag bundle's size budget (bytes are deterministic; CI enforces it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

const root = new URL('../..', import.meta.url).pathname;
const node = (code: string, type: 'module' | 'commonjs') =>
  execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();

/** The min+gzip budget of dist/outbox.iife.js, in bytes. Lower it as the bundle shrinks. */
export const iifeBudgetBytes = 14 * 1024;

describe('built package', () => {
  it('imports by name as ESM', () => {
    expect(node("import { createTracker, OutboxError } from 'outbox'; console.log(typeof createTracker, typeof OutboxError)", 'module')).toBe('function function');
  });

  it('requires by name as CJS', () => {
    const out = node(
      "const { createTracker } = require('outbox'); const t = createTracker({ endpoint: 'http://127.0.0.1:9/x', storage: false }); t.track('x'); console.log(t.stats().queued); t.close(10)",
      'commonjs',
    );
    expect(out).toBe('1');
  });

  it('defines window.Outbox from the IIFE with the same exports', () => {
    const code = readFileSync(`${root}dist/outbox.iife.js`, 'utf8');
    // A script's top-level `var Outbox` becomes a property of its global (window in a page).
    const sandbox: Record<string, unknown> = { TextEncoder, URL, crypto, setTimeout, clearTimeout, queueMicrotask };
    runInNewContext(code, sandbox);
    const iife = sandbox.Outbox as Record<string, unknown>;
    const index = Object.keys(require(`${root}dist/index.cjs`)).sort();
    expect(Object.keys(iife).filter((key) => index.includes(key)).sort()).toEqual(index);
  });

  it(`keeps the script tag within ${iifeBudgetBytes} bytes min+gzip`, () => {
    const bytes = gzipSync(readFileSync(`${root}dist/outbox.iife.js`), { level: 9 }).length;
    console.log(`dist/outbox.iife.js: ${bytes} bytes min+gzip (budget ${iifeBudgetBytes})`);
    expect(bytes).toBeLessThanOrEqual(iifeBudgetBytes);
  });
});
