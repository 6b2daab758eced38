// `npm run collector`'s command line: bad flags are refused with the usage, and a --data folder
// keeps the partition count it was created with (a source's partition depends on it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/collector.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 30_000 });
let data: string | undefined;
afterEach(() => {
  if (data) rmSync(data, { recursive: true, force: true });
});

it('--help prints the usage', () => {
  const result = run('--help');
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/--feed-token/);
});

it.each([
  ['--key without =', ['--key', 'nokey'], /--key needs STREAM=KEY/],
  ['an unknown flag', ['--admin'], /Unknown option/],
])('refuses %s with exit code 2 and the usage', (_, args, message) => {
  const result = run(...args);
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).toMatch(/usage: npm run collector/);
});

it('refuses another partition count on a --data created with 4, before starting anything', () => {
  data = mkdtempSync(join(tmpdir(), 'outbox-cli-'));
  writeFileSync(join(data, 'collector.json'), '{"partitions":4}\n');
  const result = run('--port', '0', '--data', data, '--partitions', '8');
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/holds a feed of 4 partitions, not 8/);
});
