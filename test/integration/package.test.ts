// The built package, as users get it: import by name (ESM and CJS) in Node 20, the IIFE's
// global, and the script-tag bundle's size budget (bytes are deterministic; CI enforces it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, without declarations
import { exportsField } from '../../scripts/entries.mjs';

const require = createRequire(import.meta.url);

const root = new URL('../..', import.meta.url).pathname;
const node = (code: string, type: 'module' | 'commonjs') =>
  execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();

/** The min+gzip budget of dist/outbox.iife.js, in bytes (issue 11: no larger than 14,304). Lower it as the bundle shrinks. */
export const iifeBudgetBytes = 14_304;

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

  it('requires outbox/feed as CJS: ky (ESM-only) is bundled into the CJS build', () => {
    expect(node("const { createFeedReader } = require('outbox/feed'); console.log(typeof createFeedReader({ url: 'http://127.0.0.1:9/f', partitionCount: 1 }).pages)", 'commonjs')).toBe('function');
    expect(readFileSync(`${root}dist/feed-reader.cjs`, 'utf8')).not.toMatch(/require\(['"]ky['"]\)/);
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

  // Storage outlives a deploy and tabs may run different builds: a field stored or posted between
  // tabs that the script tag's property mangling renamed would be unreadable by every other build
  // (the acknowledgement message's `acked` was, until this test).
  it('never mangles a field that is stored, posted between tabs or on the wire', async () => {
    const { internalProperties } = (await import(`${root}rollup.config.mjs`)) as { internalProperties: RegExp };
    const shared = {
      'wire event': ['id', 'name', 'timestamp', 'sourceId', 'stream', 'properties'],
      'collector replies': ['accepted', 'duplicates', 'ruled', 'rules', 'rid', 'received'],
      'stored lease (IndexedDB) and unload lease (localStorage)': ['until', 'ids', 'stream', 'at', 'rid'],
      'stored rules': ['name', 'stream', 'sourceId', 'until'],
      'acknowledgements between tabs': ['outboxAcked'],
    };
    const mangled = Object.entries(shared).flatMap(([where, fields]) => fields.filter((field) => internalProperties.test(field)).map((field) => `${where}: ${field}`));
    expect(mangled).toEqual([]);
    expect(readFileSync(`${root}dist/outbox.iife.js`, 'utf8')).toContain('outboxAcked');
  });

  it(`keeps the script tag within ${iifeBudgetBytes} bytes min+gzip`, () => {
    const bytes = gzipSync(readFileSync(`${root}dist/outbox.iife.js`), { level: 9 }).length;
    console.log(`dist/outbox.iife.js: ${bytes} bytes min+gzip (budget ${iifeBudgetBytes})`);
    expect(bytes).toBeLessThanOrEqual(iifeBudgetBytes);
  });
});

// The ecosystem's checkers on the package as published (`npm pack`): arethetypeswrong for node16
// (from CJS and from ESM) and bundler resolution, publint --strict. node10 is ignored (it knows no
// `exports`, so subpaths cannot resolve there), and so is the IIFE, a script with no types.
describe('the packed package to the checkers', () => {
  const bin = (name: string) => join(root, 'node_modules/.bin', name);
  let dir: string;
  let tarball: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-pack-'));
    tarball = join(dir, execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('package.json exports are the ones scripts/entries.mjs generates', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
    expect(pkg.exports).toEqual(exportsField());
  });

  it('passes @arethetypeswrong/cli: no CJS entry masquerades as ESM, every entry has types', () => {
    const args = [tarball, '--profile', 'node16', '--exclude-entrypoints', './outbox.iife.js', '--format', 'json'];
    let out: string;
    try {
      out = execFileSync(bin('attw'), args, { cwd: root, encoding: 'utf8' });
    } catch (error) {
      // A failing check exits 1 with the same JSON: show the problems instead of the exit code.
      out = (error as { stdout: string }).stdout;
    }
    const { analysis } = JSON.parse(out) as { analysis: { entrypoints: Record<string, unknown>; problems: { kind: string; entrypoint: string; resolutionKind: string }[] } };
    expect(Object.keys(analysis.entrypoints).sort()).toEqual(Object.keys(exportsField()).filter((k) => k !== './outbox.iife.js').sort());
    expect(analysis.problems.filter((p) => p.resolutionKind !== 'node10')).toEqual([]);
  });

  it('passes publint --strict', () => {
    const out = execFileSync(bin('publint'), ['--strict'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/All good/);
  });
});
