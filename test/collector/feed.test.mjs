import { describe, expect, it } from 'vitest';
import { createFeed, fnv1a32, shareRoundRobin } from '../../demo/collector/feed.mjs';
import { batchBody, call, event, post, start } from './harness.mjs';

/**
 * @param {{ feedUrl: string }} collector
 * @param {string} query
 */
async function readFeed(collector, query) {
  const response = await fetch(`${collector.feedUrl}?${query}`);
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, error: JSON.parse(text), events: [], checkpoints: [] };
  expect(response.headers.get('content-type')).toBe('application/x-ndjson');
  const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return {
    status: response.status,
    events: lines.filter((line) => line.cursor === undefined),
    checkpoints: lines.filter((line) => line.cursor !== undefined),
  };
}

/** @param {Record<number, string>} cursors */
function cursorQuery(cursors) {
  return Object.entries(cursors)
    .map(([p, cursor]) => `cursor${p}=${cursor}`)
    .join('&');
}

describe('feed building blocks', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('fnv1a32(%j) is %i', (text, hash) => {
    expect(fnv1a32(text)).toBe(hash);
  });

  it('hashes the UTF-8 bytes, not UTF-16 code units', () => {
    // 'é' is c3 a9 in UTF-8: two FNV steps.
    const manual = Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(manual);
  });

  it.each([
    [[5, 5, 5], 6, [2, 2, 2]],
    [[0, 10, 1], 5, [0, 4, 1]],
    [[1, 1], 10, [1, 1]],
    [[3, 3], 0, [0, 0]],
  ])('shareRoundRobin(%j, %i) is %j', (available, budget, expected) => {
    expect(shareRoundRobin(available, budget)).toEqual(expected);
  });

  it('waitForAppend resolves on an append to a wanted partition, on timeout and on abort', async () => {
    const feed = createFeed(4);
    const wanted = feed.partitionOf('a');
    const other = [...'bcdefghij'].find((s) => feed.partitionOf(s) !== wanted);

    let woke = false;
    const waiting = feed.waitForAppend(new Set([wanted]), 5000, new AbortController().signal).then(() => (woke = true));
    feed.append({ sourceId: other });
    await Promise.resolve();
    expect(woke).toBe(false);
    feed.append({ sourceId: 'a' });
    await waiting;

    const startedAt = performance.now();
    await feed.waitForAppend(new Set([wanted]), 30, new AbortController().signal);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(25);

    const aborter = new AbortController();
    const aborted = feed.waitForAppend(new Set([wanted]), 5000, aborter.signal);
    expect(feed.waiting).toBe(1);
    aborter.abort();
    await aborted;
    expect(feed.waiting).toBe(0);
  });
});

describe('GET /feed/v1', () => {
  it('reads every event exactly once, page by page, with per-source order and one checkpoint per partition', async () => {
    const collector = await start();
    const sources = Array.from({ length: 12 }, (_, i) => `device-${i}`);
    /** @type {Record<string, string[]>} */
    const sent = Object.fromEntries(sources.map((s) => [s, []]));
    for (let round = 0; round < 5; round++) {
      const batch = sources.flatMap((sourceId) => [event({ sourceId }), event({ sourceId })]);
      batch.forEach((e) => sent[e.sourceId].push(e.id));
      await post(collector, batchBody(batch));
    }
    await post(collector, batchBody([event(), event()])); // no sourceId: hashed as ''
    expect(new Set(sources.map((s) => fnv1a32(s) % 4)).size).toBe(4);

    /** @type {Record<number, string>} */
    let cursors = { 0: '_first', 1: '_first', 2: '_first', 3: '_first' };
    /** @type {any[]} */
    const received = [];
    let pages = 0;
    for (;;) {
      const page = await readFeed(collector, `n=4&${cursorQuery(cursors)}&pagesizehint=7`);
      expect(page.status).toBe(200);
      expect(page.checkpoints.map((c) => c.partition)).toEqual([0, 1, 2, 3]);
      expect(page.events.length).toBeLessThanOrEqual(7);
      if (page.events.length === 0) break;
      for (const line of page.events) {
        expect(line.headers).toEqual({});
        expect(line.partition).toBe(fnv1a32(line.data.sourceId ?? '') % 4);
      }
      received.push(...page.events.map((line) => line.data));
      cursors = Object.fromEntries(page.checkpoints.map((c) => [c.partition, c.cursor]));
      pages++;
    }

    expect(pages).toBe(Math.ceil(122 / 7));
    expect(received.map((e) => e.id).sort()).toEqual(collector.events().map((e) => e.id).sort());
    expect(new Set(received.map((e) => e.id)).size).toBe(122);
    for (const source of sources) {
      expect(received.filter((e) => e.sourceId === source).map((e) => e.id)).toEqual(sent[source]);
    }
    expect(Object.values(cursors).map(Number).reduce((a, b) => a + b)).toBe(122);
  });

  it('serves only the partitions asked for, defaulting to 100 events a page', async () => {
    const collector = await start({ partitions: 2 });
    const source = ['a', 'b', 'c', 'd'].find((s) => fnv1a32(s) % 2 === 1);
    await post(collector, batchBody(Array.from({ length: 150 }, () => event({ sourceId: source }))));

    const page = await readFeed(collector, 'n=2&cursor1=_first');
    expect(page.events).toHaveLength(100);
    expect(page.checkpoints).toEqual([{ partition: 1, cursor: '100' }]);
    expect((await readFeed(collector, 'n=2&cursor1=100&pagesizehint=0')).events).toHaveLength(50);
  });

  it('_last starts at the current end: only later events are read', async () => {
    const collector = await start();
    await post(collector, batchBody([event({ sourceId: 'x' }), event({ sourceId: 'y' })]));
    const all = '0=_last&cursor1=_last&cursor2=_last&cursor3=_last';
    const first = await readFeed(collector, `n=4&cursor${all}`);
    expect(first.events).toEqual([]);
    expect(first.checkpoints.map((c) => Number(c.cursor)).reduce((a, b) => a + b)).toBe(2);

    const later = event({ sourceId: 'x' });
    await post(collector, batchBody([later]));
    const cursors = Object.fromEntries(first.checkpoints.map((c) => [c.partition, c.cursor]));
    const next = await readFeed(collector, `n=4&${cursorQuery(cursors)}`);
    expect(next.events.map((line) => line.data)).toEqual([later]);
  });

  it.each([
    ['n is missing', 'cursor0=_first', 'partition_count', /partition count missing/],
    ['n is not an integer', 'n=four&cursor0=_first', 'partition_count', /invalid parameter n/],
    ['n does not match', 'n=3&cursor0=_first', 'partition_count', /partition count mismatch/],
    ['no cursor is given', 'n=4', 'missing_cursor', /cursor parameter is missing/],
    ['a cursor names partition n', 'n=4&cursor4=_first', 'bad_cursor', /cursor4/],
    ['a cursor parameter has no number', 'n=4&cursorx=_first', 'bad_cursor', /cursorx/],
    ['a cursor is not an index', 'n=4&cursor0=abc', 'bad_cursor', /invalid cursor "abc"/],
    ['a cursor is negative', 'n=4&cursor0=-1', 'bad_cursor', /invalid cursor/],
    ['a cursor is past the end', 'n=4&cursor0=5', 'bad_cursor', /past the end/],
    ['a cursor is given twice', 'n=4&cursor0=0&cursor0=0', 'bad_cursor', /more than once/],
    ['pagesizehint is not a number', 'n=4&cursor0=0&pagesizehint=many', 'bad_parameter', /pagesizehint/],
    ['wait is not a number', 'n=4&cursor0=0&wait=soon', 'bad_parameter', /wait/],
  ])('400 when %s', async (_, query, code, message) => {
    const collector = await start();
    const page = await readFeed(collector, query);
    expect(page.status).toBe(400);
    expect(page.error).toMatchObject({ error: code, message: expect.stringMatching(message) });
  });

  it('wait=1 long-polls and answers as soon as an event arrives', async () => {
    const collector = await start();
    const startedAt = performance.now();
    const polling = readFeed(collector, 'n=4&cursor0=_last&cursor1=_last&cursor2=_last&cursor3=_last&wait=1');
    setTimeout(() => post(collector, batchBody([event({ sourceId: 'late' })])), 100);
    const page = await polling;

    expect(performance.now() - startedAt).toBeLessThan(800);
    expect(page.events.map((line) => line.data.sourceId)).toEqual(['late']);
    expect(page.checkpoints).toHaveLength(4);
  });

  it('wait answers with checkpoints only when nothing arrives on the partitions asked for', async () => {
    const collector = await start();
    const quiet = fnv1a32('quiet') % 4;
    const noisy = ['n1', 'n2', 'n3', 'n4', 'n5'].find((s) => fnv1a32(s) % 4 !== quiet);
    const startedAt = performance.now();
    const polling = readFeed(collector, `n=4&cursor${quiet}=_last&wait=0.3`);
    setTimeout(() => post(collector, batchBody([event({ sourceId: noisy })])), 50);
    const page = await polling;

    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
    expect(page.events).toEqual([]);
    expect(page.checkpoints).toEqual([{ partition: quiet, cursor: '0' }]);
  });

  it('wait answers at once when events are already there', async () => {
    const collector = await start();
    await post(collector, batchBody([event({ sourceId: 's' })]));
    const startedAt = performance.now();
    const page = await readFeed(collector, `n=4&cursor${fnv1a32('s') % 4}=_first&wait=30`);
    expect(page.events).toHaveLength(1);
    expect(performance.now() - startedAt).toBeLessThan(200);
  });

  it('a client leaving a long poll leaves the collector able to close at once', async () => {
    const collector = await start();
    const aborter = new AbortController();
    const polling = fetch(`${collector.feedUrl}?n=4&cursor0=_last&wait=30`, { signal: aborter.signal });
    await new Promise((resolve) => setTimeout(resolve, 30));
    aborter.abort();
    await expect(polling).rejects.toThrow();
    expect((await call(collector, '/health')).status).toBe(200);
  });

  it('reset() empties the feed', async () => {
    const collector = await start();
    await post(collector, batchBody([event({ sourceId: 's' })]));
    collector.reset();
    const page = await readFeed(collector, 'n=4&cursor0=_first&cursor1=_first&cursor2=_first&cursor3=_first');
    expect(page.events).toEqual([]);
  });
});

describe('NDJSON lines', () => {
  it('escape U+2028 and U+2029, so readers splitting lines like JavaScript or Python see one line an event', async () => {
    const collector = await start({ partitions: 1 });
    const text = 'a\u2028b\u2029c';
    await post(collector, batchBody([event({ properties: { text } })]));
    const body = await (await fetch(`${collector.feedUrl}?n=1&cursor0=_first`)).text();

    expect(body).not.toMatch(/[\u2028\u2029]/);
    expect(body.split(/\r?\n|\u2028|\u2029/).filter(Boolean)).toHaveLength(2);
    expect(JSON.parse(body.split('\n')[0]).data.properties.text).toBe(text);
  });
});
