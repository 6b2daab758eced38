import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FeedError, createFeedReader, firstCursors, isFeedError, lastCursors, type Cursor, type FeedPage } from '../../src/feed-reader.js';
import { nextPageDelay } from '../../src/next-page-delay.js';
import { maxFeedLineLength } from '../../src/parse-feed-stream.js';

// The NDJSON parser and the retry policy, through the public API with an injected `fetch` that
// answers from memory. The same reader against the real collector: test/integration/seeds/feed.test.ts.

const encoder = new TextEncoder();

/** A Response whose body arrives in exactly these chunks (strings or raw bytes). */
function chunked(chunks: (string | Uint8Array)[], init: ResponseInit = {}): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
  return new Response(body, init);
}

/** A fetch answering from a list of replies in turn, recording the URLs asked for. */
function scripted(replies: (() => Response | Promise<Response>)[]) {
  const urls: string[] = [];
  const fetch = async (url: string) => {
    urls.push(url);
    const reply = replies.shift();
    if (!reply) throw new Error('no more scripted replies');
    return reply();
  };
  return { fetch, urls };
}

const event = (partition: number, data: unknown) => JSON.stringify({ partition, headers: {}, data });
const checkpoint = (partition: number, cursor: string) => JSON.stringify({ partition, cursor });

describe('NDJSON parsing', () => {
  const cursors: Cursor[] = [
    { partition: 0, cursor: '_first' },
    { partition: 1, cursor: '_first' },
  ];
  const cases: { name: string; chunks: (string | Uint8Array)[]; events: unknown[]; checkpoints: Cursor[]; next: string[] }[] = [
    { name: 'an empty body', chunks: [''], events: [], checkpoints: [], next: ['_first', '_first'] },
    {
      name: 'events then a checkpoint per partition',
      chunks: [[event(0, 'a'), event(0, 'b'), checkpoint(0, '2'), event(1, 'c'), checkpoint(1, '1'), ''].join('\n')],
      events: ['a', 'b', 'c'],
      checkpoints: [
        { partition: 0, cursor: '2' },
        { partition: 1, cursor: '1' },
      ],
      next: ['2', '1'],
    },
    {
      name: 'blank and whitespace-only lines skipped, no final newline',
      chunks: [`\n\n${event(0, 'a')}\n   \n\n${checkpoint(0, '1')}`],
      events: ['a'],
      checkpoints: [{ partition: 0, cursor: '1' }],
      next: ['1', '_first'],
    },
    {
      name: 'a line split across chunks, mid-JSON and at the newline',
      chunks: [event(0, 'a').slice(0, 7), event(0, 'a').slice(7), '\n', checkpoint(0, '1').slice(0, 3), `${checkpoint(0, '1').slice(3)}\n`],
      events: ['a'],
      checkpoints: [{ partition: 0, cursor: '1' }],
      next: ['1', '_first'],
    },
    {
      name: 'a multi-byte UTF-8 character split across chunks',
      chunks: [encoder.encode(event(1, 'é🔑')).slice(0, 36), encoder.encode(event(1, 'é🔑')).slice(36), '\n'],
      events: ['é🔑'],
      checkpoints: [],
      next: ['_first', '_first'],
    },
    {
      name: 'CRLF endings: "\\r" stays in the line and JSON ignores it',
      chunks: [`${event(0, 'a')}\r\n${checkpoint(0, '1')}\r\n`],
      events: ['a'],
      checkpoints: [{ partition: 0, cursor: '1' }],
      next: ['1', '_first'],
    },
    {
      name: 'a null cursor is an event line, a non-string cursor is kept as a string',
      chunks: [`${JSON.stringify({ partition: 0, cursor: null, data: 'x' })}\n${JSON.stringify({ partition: 1, cursor: 17 })}\n`],
      events: ['x'],
      checkpoints: [{ partition: 1, cursor: '17' }],
      next: ['_first', '17'],
    },
    {
      name: 'the latest checkpoint of a partition wins',
      chunks: [[checkpoint(0, '5'), event(0, 'a'), checkpoint(0, '6'), ''].join('\n')],
      events: ['a'],
      checkpoints: [
        { partition: 0, cursor: '5' },
        { partition: 0, cursor: '6' },
      ],
      next: ['6', '_first'],
    },
  ];

  it.each(cases)('$name', async ({ chunks, events, checkpoints, next }) => {
    const reader = createFeedReader({ url: 'http://feed.test/feed/v1', partitionCount: 2, fetch: async () => chunked(chunks) });
    const page = await reader.readPage(cursors);
    expect(page.events.map((e) => e.data)).toEqual(events);
    expect(page.checkpoints).toEqual(checkpoints);
    expect(page.cursors).toEqual(next.map((cursor, partition) => ({ partition, cursor })));
  });

  it('keeps event headers and the partition of each event', async () => {
    const line = JSON.stringify({ partition: 1, headers: { ce_id: '7' }, data: { n: 1 } });
    const reader = createFeedReader({ url: 'http://feed.test/', partitionCount: 2, fetch: async () => chunked([`${line}\n${JSON.stringify({ partition: 0, data: 2 })}\n`]) });
    const page = await reader.readPage(firstCursors(2));
    expect(page.events).toEqual([
      { partition: 1, headers: { ce_id: '7' }, data: { n: 1 } },
      { partition: 0, data: 2 },
    ]);
  });

  it.each([
    ['a line that is not JSON', 'not json\n'],
    ['a line without a partition', '{"data":1}\n'],
  ])('refuses %s as bad_response, without retrying', async (_, body) => {
    const { fetch, urls } = scripted([() => chunked([body]), () => chunked([''])]);
    const reader = createFeedReader({ url: 'http://feed.test/', partitionCount: 1, fetch });
    const error = await reader.readPage(firstCursors(1)).catch((e: unknown) => e);
    expect(isFeedError(error) && error.code).toBe('bad_response');
    expect(urls).toHaveLength(1);
  });
});

describe('requests', () => {
  it('builds the query: n, one cursor per partition (encoded), pagesizehint, headers, wait', async () => {
    const { fetch, urls } = scripted([() => chunked([''])]);
    const reader = createFeedReader({ url: 'http://feed.test/feed/v1?tenant=a', partitionCount: 3, fetch, pageSizeHint: 50, waitSeconds: 2, eventHeaders: ['ce_id', 'ce_type'] });
    await reader.readPage([
      { partition: 2, cursor: 'a b&c' },
      { partition: 0, cursor: '_last' },
    ]);
    expect(urls[0]).toBe('http://feed.test/feed/v1?tenant=a&n=3&cursor2=a%20b%26c&cursor0=_last&pagesizehint=50&headers=ce_id,ce_type&wait=2');
  });

  it('omits a zero pagesizehint and asks for every header with eventHeaders "all"', async () => {
    const { fetch, urls } = scripted([() => chunked([''])]);
    await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, pageSizeHint: 0, eventHeaders: 'all' }).readPage(lastCursors(1));
    expect(urls[0]).toBe('http://f/?n=1&cursor0=_last&headers=_all');
  });

  it.each([
    ['no cursors', []],
    ['a partition out of range', [{ partition: 2, cursor: '_first' }]],
    ['a partition twice', [{ partition: 0, cursor: '1' }, { partition: 0, cursor: '2' }]],
    ['an empty cursor', [{ partition: 0, cursor: '' }]],
  ])('rejects %s without a request', async (_, cursors) => {
    const { fetch, urls } = scripted([]);
    const error = await createFeedReader({ url: 'http://f/', partitionCount: 2, fetch }).readPage(cursors as Cursor[]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedError);
    expect((error as FeedError).code).toBe('bad_cursor');
    expect((error as FeedError).message).toMatch(/^\[outbox\] /);
    expect(urls).toHaveLength(0);
  });

  it('refuses bad options at setup', () => {
    expect(() => createFeedReader({ url: '', partitionCount: 1 })).toThrow(TypeError);
    expect(() => createFeedReader({ url: 'http://f/', partitionCount: 0 })).toThrow(RangeError);
    expect(() => createFeedReader({ url: 'http://f/', partitionCount: 1, pollIntervalMs: Number.NaN })).toThrow(/pollIntervalMs/);
    expect(() => createFeedReader({ url: 'http://f/', partitionCount: 1, waitSeconds: -1 })).toThrow(/waitSeconds/);
  });

  it('firstCursors and lastCursors give one cursor per partition', () => {
    expect(firstCursors(2)).toEqual([
      { partition: 0, cursor: '_first' },
      { partition: 1, cursor: '_first' },
    ]);
    expect(lastCursors(1)).toEqual([{ partition: 0, cursor: '_last' }]);
  });
});

describe('retries', () => {
  const ok = () => chunked([`${checkpoint(0, '0')}\n`]);

  it('retries 503, 429 and network errors with backoff, then succeeds', async () => {
    const { fetch, urls } = scripted([
      () => new Response('busy', { status: 503 }),
      () => new Response('slow down', { status: 429 }),
      () => Promise.reject(new TypeError('fetch failed')),
      ok,
    ]);
    const reader = createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, retry: { limit: 3, baseMs: 1 } });
    const page = await reader.readPage(firstCursors(1));
    expect(page.cursors).toEqual([{ partition: 0, cursor: '0' }]);
    expect(urls).toHaveLength(4);
  });

  it('gives up after `limit` retries with the last status and body', async () => {
    const { fetch, urls } = scripted(Array.from({ length: 3 }, () => () => new Response('down for maintenance', { status: 502 })));
    const error = (await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, retry: { limit: 2, baseMs: 1 } })
      .readPage(firstCursors(1))
      .catch((e: unknown) => e)) as FeedError;
    expect(urls).toHaveLength(3);
    expect(error).toMatchObject({ name: 'FeedError', code: 'http', status: 502, body: 'down for maintenance' });
    expect(error.message).toContain('HTTP 502');
  });

  it('does not retry a 400 (partition count mismatch) and reports its body', async () => {
    const { fetch, urls } = scripted([() => new Response('{"error":"partition_count"}', { status: 400 }), ok]);
    const error = (await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, retry: { limit: 5, baseMs: 1 } })
      .readPage(firstCursors(1))
      .catch((e: unknown) => e)) as FeedError;
    expect(urls).toHaveLength(1);
    expect(error).toMatchObject({ code: 'http', status: 400, body: '{"error":"partition_count"}' });
  });

  it('a network failure after the limit is a `network` FeedError carrying the cause', async () => {
    const cause = new TypeError('fetch failed');
    const { fetch } = scripted([() => Promise.reject(cause)]);
    const error = (await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, retry: 0 })
      .readPage(firstCursors(1))
      .catch((e: unknown) => e)) as FeedError;
    expect(error).toMatchObject({ code: 'network', status: undefined });
    expect(error.cause).toBe(cause);
  });

  it('waits at least a Retry-After before retrying', async () => {
    const { fetch, urls } = scripted([() => new Response('', { status: 503, headers: { 'Retry-After': '1' } }), ok]);
    const started = Date.now();
    await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, retry: { limit: 1, baseMs: 1 } }).readPage(firstCursors(1));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(urls).toHaveLength(2);
  });

  it('times out a request that never answers, and retries it', async () => {
    let calls = 0;
    const fetch = (_: string, init: RequestInit) => {
      calls++;
      if (calls > 1) return Promise.resolve(ok());
      return new Promise<Response>((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    };
    const page = await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, timeoutMs: 50, retry: { limit: 1, baseMs: 1 } }).readPage(firstCursors(1));
    expect(calls).toBe(2);
    expect(page.checkpoints).toHaveLength(1);
  });

  it('an abort during the backoff rejects with the abort reason and stops retrying', async () => {
    const controller = new AbortController();
    const { fetch, urls } = scripted([() => new Response('', { status: 503 }), ok]);
    const reading = createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, signal: controller.signal, retry: { limit: 3, baseMs: 60_000 }, random: () => 0.5 }).readPage(firstCursors(1));
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(reading).rejects.toThrow('shutting down');
    expect(urls).toHaveLength(1);
  });
});

describe('pages()', () => {
  it('follows the cursors until a page has no events, fetching each page only when asked', async () => {
    const { fetch, urls } = scripted([
      () => chunked([`${event(0, 1)}\n${checkpoint(0, '1')}\n`]),
      () => chunked([`${event(0, 2)}\n${checkpoint(0, '2')}\n`]),
      () => chunked([`${checkpoint(0, '2')}\n`]),
    ]);
    const reader = createFeedReader({ url: 'http://f/', partitionCount: 1, fetch });
    const seen: unknown[] = [];
    for await (const page of reader.pages(firstCursors(1))) {
      expect(urls).toHaveLength(seen.length + 1); // nothing read ahead of the consumer
      seen.push(...page.events.map((e) => e.data));
    }
    expect(seen).toEqual([1, 2]);
    expect(urls.map((u) => new URL(u).searchParams.get('cursor0'))).toEqual(['_first', '1', '2']);
  });

  it('with a long poll, keeps asking past empty pages and ends quietly on abort', async () => {
    const controller = new AbortController();
    const { fetch, urls } = scripted([
      () => chunked([`${checkpoint(0, '0')}\n`]),
      () => chunked([`${checkpoint(0, '0')}\n`]),
      () => chunked([`${event(0, 'late')}\n${checkpoint(0, '1')}\n`]),
      () => new Promise<Response>(() => {}),
    ]);
    const reader = createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, waitSeconds: 1, signal: controller.signal });
    const pages = [];
    for await (const page of reader.pages(firstCursors(1))) {
      pages.push(page);
      if (page.events.length) setTimeout(() => controller.abort(), 10);
    }
    // The first page moved the cursor (_first → 0) so it is yielded; the unchanged empty one is not.
    expect(pages.map((p) => p.events.map((e) => e.data))).toEqual([[], ['late']]);
    expect(urls).toHaveLength(4);
    expect(urls.every((u) => u.includes('&wait=1'))).toBe(true);
  });
});

describe('an empty page is not the end (ZeroEventHub: a filtering server advances checkpoints)', () => {
  const asked: Cursor[] = [{ partition: 0, cursor: '5' }];
  const page = (events: number, cursor: string): FeedPage<unknown> => ({
    events: Array.from({ length: events }, () => ({ partition: 0, data: 1 })),
    checkpoints: [{ partition: 0, cursor }],
    cursors: [{ partition: 0, cursor }],
  });
  it.each([
    ['events, cursor moved', page(2, '7'), 0, 3, { kind: 'next', delayMs: 0 }],
    ['no events, cursor moved', page(0, '9'), 0, 3, { kind: 'next', delayMs: 0 }],
    ['no events, cursor unchanged, no long poll', page(0, '5'), 0, 3, { kind: 'end' }],
    ['no events, unchanged, long poll answered at once', page(0, '5'), 2, 3, { kind: 'next', delayMs: 997 }],
    ['no events, unchanged, long poll held 2 s', page(0, '5'), 2, 2000, { kind: 'next', delayMs: 0 }],
  ])('nextPageDelay: %s', (_, next, waitSeconds, elapsedMs, expected) => {
    expect(nextPageDelay(asked, next, { waitSeconds, pollIntervalMs: 1000, elapsedMs })).toEqual(expected);
  });

  it('pages() reads past empty pages whose checkpoints advance, and ends when they stop', async () => {
    const { fetch, urls } = scripted([
      () => chunked([`${checkpoint(0, '40')}\n`]),
      () => chunked([`${checkpoint(0, '80')}\n`]),
      () => chunked([`${event(0, 'kept')}\n${checkpoint(0, '93')}\n`]),
      () => chunked([`${checkpoint(0, '93')}\n`]),
    ]);
    const seen: unknown[] = [];
    for await (const page of createFeedReader({ url: 'http://f/', partitionCount: 1, fetch }).pages(firstCursors(1))) seen.push(...page.events.map((e) => e.data));
    expect(seen).toEqual(['kept']);
    expect(urls.map((u) => new URL(u).searchParams.get('cursor0'))).toEqual(['_first', '40', '80', '93']);
  });

  it('with waitSeconds, a server that ignores wait is asked once per pollIntervalMs, not in a loop', async () => {
    const controller = new AbortController();
    const { fetch, urls } = scripted(Array.from({ length: 5 }, () => () => chunked([`${checkpoint(0, '0')}\n`])));
    const reader = createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, waitSeconds: 10, pollIntervalMs: 100, signal: controller.signal });
    const started = performance.now();
    const consuming = (async () => {
      for await (const _ of reader.pages([{ partition: 0, cursor: '0' }])) void _;
    })();
    while (urls.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    // A lower bound on time holds on any machine load: four pauses of 100 ms came between five requests.
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    controller.abort();
    await consuming;
  });
});

describe('NDJSON is parsed as it streams, never buffered whole', () => {
  it('a bad first line fails the read while the body is still open', async () => {
    // A body that never ends: a reader buffering the whole body would wait here until its timeout.
    const open = () => new Response(new ReadableStream({ start: (c) => c.enqueue(encoder.encode('not json\n')) }));
    const error = await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch: async () => open(), timeoutMs: 60_000 })
      .readPage(firstCursors(1))
      .catch((e: unknown) => e);
    expect(isFeedError(error) && error.code).toBe('bad_response');
  });

  it(`a line longer than ${maxFeedLineLength} characters is a bad_response, not a memory blow-up`, async () => {
    const chunk = encoder.encode('x'.repeat(1024 * 1024));
    const endless = () => new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }));
    const error = await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch: async () => endless(), retry: 3 })
      .readPage(firstCursors(1))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/longer than/) });
  });

  it('a connection lost mid-body is retried like any network failure', async () => {
    const broken = () =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(encoder.encode(`${event(0, 'a')}\n`));
            c.error(new TypeError('terminated'));
          },
        }),
      );
    const { fetch, urls } = scripted([broken, () => chunked([`${event(0, 'a')}\n${checkpoint(0, '1')}\n`])]);
    const page = await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch, retry: { limit: 1, baseMs: 1 } }).readPage(firstCursors(1));
    // The broken attempt's event is not in the page twice: each attempt parses a page of its own.
    expect(page.events.map((e) => e.data)).toEqual(['a']);
    expect(urls).toHaveLength(2);
  });

  it('reads an error body only up to 8 KiB', async () => {
    const huge = () => new Response(new ReadableStream({ pull: (c) => c.enqueue(encoder.encode('e'.repeat(4096))) }), { status: 400 });
    const error = (await createFeedReader({ url: 'http://f/', partitionCount: 1, fetch: async () => huge() }).readPage(firstCursors(1)).catch((e: unknown) => e)) as FeedError;
    expect(error).toMatchObject({ code: 'http', status: 400 });
    expect(error.body!.length).toBe(8192);
  });
});

describe('pages() against simulated filtering servers (property)', () => {
  /**
   * An in-memory ZeroEventHub server: `log[p]` holds partition p's events; a page from cursor c
   * scans up to `pageSize` entries, sends the kept ones, and checkpoints at c + scanned, so runs of
   * filtered-out entries come back as empty pages whose cursors still advance.
   */
  function server(log: { id: number; kept: boolean }[][], pageSize: number) {
    return async (url: string) => {
      const params = new URL(url).searchParams;
      const lines: string[] = [];
      for (const [key, value] of params) {
        const match = /^cursor(\d+)$/.exec(key);
        if (!match) continue;
        const p = Number(match[1]);
        const from = value === '_first' ? 0 : Number(value);
        const scanned = log[p]!.slice(from, from + pageSize);
        for (const entry of scanned) if (entry.kept) lines.push(event(p, entry.id));
        lines.push(checkpoint(p, String(from + scanned.length)));
      }
      return chunked([lines.join('\n') + '\n']);
    };
  }

  it('reads every kept event exactly once, in order per partition, and then ends', async () => {
    const logs = fc.array(fc.array(fc.boolean(), { maxLength: 60 }), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(logs, fc.integer({ min: 1, max: 7 }), async (kept, pageSize) => {
        let id = 0;
        const log = kept.map((partition) => partition.map((k) => ({ id: id++, kept: k })));
        const reader = createFeedReader({ url: 'http://f/', partitionCount: log.length, fetch: server(log, pageSize) });
        const seen: number[][] = log.map(() => []);
        for await (const page of reader.pages<number>(firstCursors(log.length))) {
          for (const e of page.events) seen[e.partition]!.push(e.data);
        }
        expect(seen).toEqual(log.map((partition) => partition.filter((e) => e.kept).map((e) => e.id)));
      }),
      { numRuns: 200 },
    );
  });
});
