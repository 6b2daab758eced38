// The durable collector's feed query and page sharing: pure decisions, table-driven.
import { describe, expect, it } from 'vitest';
import { defaultPageSize, maxPageSize, parseFeedQuery, sharePage } from '../../src/collector/feed-query.js';

const parse = (query: string, partitions = 4) => parseFeedQuery(new URLSearchParams(query), partitions);

describe('parseFeedQuery', () => {
  it('reads cursors in partition order, the page size, the wait and the headers', () => {
    const query = parse('n=4&cursor3=17&cursor1=_first&pagesizehint=50&wait=2.5&headers=rid,receivedAt');
    expect(query).toEqual({ ok: true, cursors: new Map([[1, '_first'], [3, '17']]), pageSize: 50, waitMs: 2500, headers: new Set(['rid', 'receivedAt']) });
  });

  it.each([
    ['', defaultPageSize],
    ['&pagesizehint=0', defaultPageSize],
    ['&pagesizehint=', defaultPageSize],
    ['&pagesizehint=99999999', maxPageSize],
  ])('pagesizehint "%s" gives %i', (hint, size) => {
    expect(parse(`n=4&cursor0=_first${hint}`)).toMatchObject({ ok: true, pageSize: size });
  });

  it('caps the wait at 30 s and accepts waitseconds as its other name; _all asks for every header', () => {
    expect(parse('n=4&cursor0=_last&waitseconds=600&headers=_all')).toMatchObject({ waitMs: 30_000, headers: 'all' });
  });

  it('ignores unknown parameters, cursorset among them', () => {
    expect(parse('n=4&cursor0=_first&cursorset=mine&resume=0&x=1')).toMatchObject({ ok: true, cursors: new Map([[0, '_first']]) });
  });

  it.each([
    ['cursor0=_first', 'partition_count'],
    ['n=04x&cursor0=_first', 'partition_count'],
    ['n=2&cursor0=_first', 'partition_count'],
    ['n=4', 'missing_cursor'],
    ['n=4&cursor9=_first', 'bad_cursor'],
    ['n=4&cursor0=1&cursor0=2', 'bad_cursor'],
    ['n=4&cursor0=-1', 'bad_cursor'],
    ['n=4&cursor0=1e3', 'bad_cursor'],
    ['n=4&cursor0=' + '9'.repeat(16), 'bad_cursor'],
    ['n=4&cursor0=_first&pagesizehint=ten', 'bad_parameter'],
    ['n=4&cursor0=_first&wait=-1', 'bad_parameter'],
    ['n=4&cursor0=_first&wait=Infinity', 'bad_parameter'],
  ])('%s is refused as %s', (query, code) => {
    expect(parse(query)).toMatchObject({ ok: false, code });
  });
});

describe('sharePage', () => {
  it.each([
    [100, 1, [100]],
    [100, 4, [25, 25, 25, 25]],
    [10, 4, [3, 3, 2, 2]],
    [2, 4, [1, 1, 1, 1]], // at least one each: no partition starves behind a small hint
  ])('%i events over %i partitions: %j', (pageSize, count, shares) => {
    expect(sharePage(pageSize, count)).toEqual(shares);
  });
});
