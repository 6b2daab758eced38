// `kill -9 <pid>` of `npm run collector` (the node process alone, as a newcomer does it) leaves
// its workerd child running on the port and the same --data. The restart must end that orphan
// and serve the same data on the same port, not fail with "Address already in use".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort, readFeed, startLocalCollector, type LocalCollector } from './local-collector.js';

const feedToken = 'orphan-test-token';

// Ended: no such process, or a zombie its new parent has not reaped yet (a killed orphan is
// reparented to whatever init the machine runs, which may reap it late or never).
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch {
    return true;
  }
}
const running: LocalCollector[] = [];
let data: string | undefined;
afterEach(async () => {
  for (const collector of running.splice(0).reverse()) await collector.kill();
  if (data) rmSync(data, { recursive: true, force: true });
});

it.skipIf(process.platform !== 'linux')('a restart after kill -9 of the node process ends its orphaned workerd and serves the same data; a second collector on a served --data is refused', async () => {
  data = mkdtempSync(join(tmpdir(), 'outbox-orphan-'));
  const port = await freePort();
  const first = await startLocalCollector({ port, data, feedToken });
  running.push(first);
  const body = JSON.stringify({ events: [{ id: 'before-kill', name: 'load', timestamp: 1, sourceId: 's' }] });
  expect((await fetch(first.endpoint, { method: 'POST', body })).status).toBe(200);
  // A second collector on the same --data while the first runs is refused, naming the first.
  await expect(startLocalCollector({ port: await freePort(), data, feedToken })).rejects.toThrow(`served by a running collector (pid ${first.pid})`);
  const { workerd } = JSON.parse(readFileSync(join(data, 'workerd.pid'), 'utf8')) as { workerd: number };

  process.kill(first.pid, 'SIGKILL');
  // The orphan still answers: this is what made the restart fail.
  expect((await fetch(`${first.url}/health`)).status).toBe(200);

  const second = await startLocalCollector({ port, data, feedToken });
  running.push(second);
  expect(isGone(workerd)).toBe(true);
  expect((await fetch(second.endpoint, { method: 'POST', body: body.replace('before-kill', 'after-restart') })).status).toBe(200);
  const { ids } = await readFeed(second.url, feedToken, ['_first', '_first', '_first', '_first']);
  expect(ids.sort()).toEqual(['after-restart', 'before-kill']);
});
