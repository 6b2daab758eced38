// The ZeroEventHub feed of outbox/collector in workerd: conformance (n, cursorN, pagesizehint,
// headers, NDJSON, unknown parameters), consumer authentication, the long poll.
import { reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { partitionOf } from 'outbox/collector';
import { batchBody, collector, event, feed, gzip, post, readAll } from './harness.js';

beforeEach(async () => {
  await reset();
});

const all = 'n=4&cursor0=_first&cursor1=_first&cursor2=_first&cursor3=_first';

describe('feed conformance', () => {
  it('serves each event as tracked with its partition, and one checkpoint per partition asked for', async () => {
    const call = collector();
    const tracked = [event({ sourceId: 'a', properties: { x: 1 } }), event({ sourceId: 'b' }), event()];
    await post(call, batchBody(tracked));
    const page = await feed(call, all);
    expect(page.status).toBe(200);
    const events = page.lines.filter((l) => l.data);
    expect(events).toHaveLength(3);
    for (const line of events) {
      expect(line.partition).toBe(partitionOf(line.data!.sourceId, 4));
      expect(line.headers).toEqual({});
      expect(tracked).toContainEqual(line.data);
    }
    expect(page.lines.filter((l) => l.cursor !== undefined).map((l) => l.partition)).toEqual([0, 1, 2, 3]);
  });

  it('escapes U+2028 and U+2029 in NDJSON lines, and the data reads back unchanged', async () => {
    const call = collector();
    await post(call, batchBody([event({ properties: { text: 'a\u2028b\u2029c' } })]));
    const page = await feed(call, all);
    expect(page.text).not.toMatch(/[\u2028\u2029]/);
    expect(page.text).toContain('\\u2028');
    expect(page.lines.find((l) => l.data)!.data!.properties).toEqual({ text: 'a\u2028b\u2029c' });
  });

  it('headers=_all and named headers give receivedAt and rid; none by default', async () => {
    const call = collector({ now: () => 1_750_000_000_000 });
    await post(call, batchBody([event()]), { rid: 'req-1' });
    const line = async (headers: string) => (await feed(call, `${all}&headers=${headers}`)).lines.find((l) => l.data)!;
    expect((await line('_all')).headers).toEqual({ receivedAt: '1750000000000', rid: 'req-1' });
    expect((await line('rid,unknown')).headers).toEqual({ rid: 'req-1' });
  });

  it('pagesizehint caps a page, shared between partitions; cursors continue where the page ended', async () => {
    const call = collector();
    await post(call, batchBody(Array.from({ length: 40 }, (_, i) => event({ sourceId: `s${i}` }))));
    const page = await feed(call, `${all}&pagesizehint=8`);
    expect(page.lines.filter((l) => l.data)).toHaveLength(8);
    const { events } = await readAll(call);
    expect(new Set(events.map((e) => e.data!.id)).size).toBe(40);
  });

  it('a page of large events stops at 8 Mi characters of event JSON (a Worker has 128 MB), and the next page continues', async () => {
    const call = collector();
    const big = () => event({ sourceId: 'big', properties: { pad: 'x'.repeat(500_000) } });
    for (let i = 0; i < 2; i++) expect((await post(call, gzip(batchBody(Array.from({ length: 10 }, big))))).json).toMatchObject({ accepted: 10 });
    const p = partitionOf('big', 4);
    const first = await feed(call, `n=4&cursor${p}=_first&pagesizehint=100`);
    const events = first.lines.filter((l) => l.data);
    expect(events.length).toBe(16); // 16 × 500 k characters fit 8 Mi, 17 do not
    const cursor = first.lines.find((l) => l.cursor !== undefined)!.cursor!;
    expect((await feed(call, `n=4&cursor${p}=${cursor}&pagesizehint=100`)).lines.filter((l) => l.data)).toHaveLength(4);
  });

  it('reads only the partitions asked for; unknown parameters are ignored', async () => {
    const call = collector();
    await post(call, batchBody(Array.from({ length: 20 }, (_, i) => event({ sourceId: `s${i}` }))));
    const page = await feed(call, 'n=4&cursor2=_first&future=1&cursorset=x');
    expect(page.status).toBe(200);
    expect(page.lines.every((l) => l.partition === 2)).toBe(true);
  });

  it('_last starts at the current end: only later events are read', async () => {
    const call = collector();
    await post(call, batchBody([event({ sourceId: 'x' })]));
    const p = partitionOf('x', 4);
    const start = (await feed(call, `n=4&cursor${p}=_last`)).lines;
    expect(start).toEqual([{ partition: p, cursor: '1' }]);
    const later = event({ sourceId: 'x' });
    await post(call, batchBody([later]));
    expect((await feed(call, `n=4&cursor${p}=1`)).lines.map((l) => l.data?.id ?? l.cursor)).toEqual([later.id, '2']);
  });

  it.each([
    ['n missing', 'cursor0=_first', 'partition_count'],
    ['n not a number', 'n=four&cursor0=_first', 'partition_count'],
    ['n not the partition count', 'n=8&cursor0=_first', 'partition_count'],
    ['no cursor', 'n=4', 'missing_cursor'],
    ['a cursor of a partition that does not exist', 'n=4&cursor4=_first', 'bad_cursor'],
    ['a huge partition number', 'n=4&cursor99999999999=_first', 'bad_cursor'],
    ['a cursor given twice', 'n=4&cursor0=_first&cursor0=_last', 'bad_cursor'],
    ['a cursor that is not one of ours', 'n=4&cursor0=abc', 'bad_cursor'],
    ['a cursor past the end', 'n=4&cursor0=99', 'bad_cursor'],
    ['a negative pagesizehint', 'n=4&cursor0=_first&pagesizehint=-1', 'bad_parameter'],
    ['a wait that is not a number', 'n=4&cursor0=_first&wait=soon', 'bad_parameter'],
  ])('400 for %s', async (_, query, code) => {
    const page = await feed(collector(), query);
    expect(page.status).toBe(400);
    expect(JSON.parse(page.text)).toMatchObject({ error: code });
  });
});

describe('feed consumers authenticate; ingest never needs credentials', () => {
  it('401 without or with a wrong bearer token, 403 when no token is configured', async () => {
    expect((await feed(collector(), all, null)).status).toBe(401);
    expect((await feed(collector(), all, 'wrong')).status).toBe(401);
    expect((await feed(collector({ feedToken: '' }), all)).status).toBe(403);
    expect((await feed(collector(), all)).status).toBe(200);
  });
});

describe('long poll (wait=, outbox’s extension)', () => {
  it('answers as soon as an event arrives on a partition asked for', async () => {
    const call = collector();
    const p = partitionOf('poll', 4);
    const polling = feed(call, `n=4&cursor${p}=_first&wait=20`);
    const arriving = event({ sourceId: 'poll' });
    // Posting until the poll answers: no fixed sleep, the poll may start after the first post.
    let answered = false;
    void polling.then(() => (answered = true));
    await post(call, batchBody([arriving]));
    const page = await polling;
    expect(answered).toBe(true);
    expect(page.lines.map((l) => l.data?.id ?? l.cursor)).toEqual([arriving.id, '1']);
  });

  it('answers with the checkpoints it was given when nothing arrives', async () => {
    const started = Date.now();
    const page = await feed(collector(), 'n=4&cursor0=_first&cursor1=_first&wait=1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(page.lines).toEqual([
      { partition: 0, cursor: '0' },
      { partition: 1, cursor: '0' },
    ]);
  });

  it('answers at once when events are already there', async () => {
    const call = collector();
    await post(call, batchBody([event()]));
    const started = Date.now();
    await feed(call, `${all}&wait=20`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
