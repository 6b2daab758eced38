/** Events a feed page holds when the request gives no `pagesizehint`. */
export const defaultPageSize = 100;
/** Most events one feed page holds, whatever the hint. */
export const maxPageSize = 10_000;
/**
 * Event JSON one feed page carries at most (UTF-16 code units, shared by the partitions read, at
 * least one event each): 100 events of the largest size would not fit a Worker's 128 MB.
 */
export const maxPageChars = 8 * 1024 * 1024;
/** Longest long poll, in seconds. */
export const maxWaitSeconds = 30;

/** A checked ZeroEventHub feed query. */
export interface FeedQuery {
  ok: true;
  /** partition → cursor (`_first`, `_last` or one this feed gave out), in partition order */
  cursors: Map<number, string>;
  pageSize: number;
  waitMs: number;
  /** header names asked for; `'all'` for `_all` */
  headers: Set<string> | 'all';
}

/** A feed query refused (400). */
export interface FeedQueryError {
  ok: false;
  code: 'partition_count' | 'bad_cursor' | 'missing_cursor' | 'bad_parameter';
  message: string;
}

/**
 * Checks a feed query against the ZeroEventHub spec: `n` must equal the partition count (the
 * spec's MVP rule), one `cursorN` per partition read, `pagesizehint` and `headers` optional,
 * `wait` (or `waitseconds`) the long-poll extension; unknown parameters are ignored.
 */
export function parseFeedQuery(params: URLSearchParams, partitionCount: number): FeedQuery | FeedQueryError {
  // One value each: a proxy or cache reading the last of two would see another query than we do.
  for (const name of ['n', 'pagesizehint', 'wait', 'waitseconds', 'headers']) {
    if (params.getAll(name).length > 1) return bad('bad_parameter', `${name} is given more than once`);
  }
  const n = params.get('n');
  if (n === null) return bad('partition_count', 'partition count missing (parameter n)');
  if (!/^\d{1,6}$/.test(n)) return bad('partition_count', `invalid parameter n: "${n}"`);
  if (Number(n) !== partitionCount) return bad('partition_count', `partition count mismatch: n=${n}, the feed has ${partitionCount}`);

  const cursors = new Map<number, string>();
  for (const [key, value] of params) {
    // Only cursorN: `cursorset` is another parameter of the spec (its publisher-side cursors).
    const match = /^cursor(\d+)$/.exec(key);
    if (!match) continue;
    const partition = match[1]!.length <= 6 ? Number(match[1]) : NaN;
    if (!(partition < partitionCount)) return bad('bad_cursor', `invalid cursor parameter "${key}": partitions are 0..${partitionCount - 1}`);
    if (cursors.has(partition)) return bad('bad_cursor', `${key} is given more than once`);
    if (!/^(_first|_last|\d{1,15})$/.test(value)) return bad('bad_cursor', `invalid cursor "${value.slice(0, 64)}" for ${key}`);
    cursors.set(partition, value);
  }
  if (cursors.size === 0) return bad('missing_cursor', 'cursor parameter is missing (cursor0=_first reads partition 0 from the start)');

  const hint = params.get('pagesizehint');
  if (hint !== null && hint !== '' && !/^\d{1,9}$/.test(hint)) return bad('bad_parameter', `pagesizehint must be a non-negative integer, got "${hint.slice(0, 64)}"`);
  // The spec's clients omit a 0 hint, so 0 and absent both mean the default.
  const pageSize = hint ? Math.min(Number(hint), maxPageSize) || defaultPageSize : defaultPageSize;

  const wait = params.get('wait') ?? params.get('waitseconds');
  const waitSeconds = wait === null || wait === '' ? 0 : Number(wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) return bad('bad_parameter', `wait must be a number of seconds, got "${String(wait).slice(0, 64)}"`);

  const headerList = params.get('headers');
  const names = headerList ? headerList.split(',').map((h) => h.trim()).filter(Boolean) : [];
  return {
    ok: true,
    cursors: new Map([...cursors].sort(([a], [b]) => a - b)),
    pageSize,
    waitMs: Math.min(waitSeconds, maxWaitSeconds) * 1000,
    headers: names.includes('_all') ? 'all' : new Set(names),
  };
}

/**
 * Splits a page of `pageSize` events over `count` partitions: evenly, the first ones taking the
 * remainder, and at least one each so no partition starves behind a small hint.
 */
export function sharePage(pageSize: number, count: number): number[] {
  const base = Math.floor(pageSize / count);
  return Array.from({ length: count }, (_, i) => Math.max(1, base + (i < pageSize % count ? 1 : 0)));
}

function bad(code: FeedQueryError['code'], message: string): FeedQueryError {
  return { ok: false, code, message };
}
