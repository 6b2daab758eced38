// An SPA that installs outbox must not download a runtime: miniflare, wrangler and workerd stay
// devDependencies, and outbox/collector's sources import nothing but the package's own files and
// fflate (no Node built-in, no runtime; `cloudflare:workers` at most).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;

it('installs no runtime: miniflare, wrangler, workerd and Cloudflare packages are dev-only', () => {
  const installed = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
  expect(installed.sort()).toEqual(['fflate', 'idb-keyval', 'ky']);
  for (const runtime of ['miniflare', 'wrangler', '@cloudflare/vitest-pool-workers']) expect(pkg.devDependencies).toHaveProperty(runtime);
});

it('outbox/collector imports only its own files, wire.ts, fflate and cloudflare:workers', () => {
  const dir = join(root, 'src/collector');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(10);
  const specifiers = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) specifiers.add(match[1]!);
  }
  const outside = [...specifiers].filter((s) => !s.startsWith('./') && s !== '../wire.js' && s !== 'fflate' && s !== 'cloudflare:workers');
  expect(outside).toEqual([]);
  expect(specifiers).toContain('../wire.js');
});
