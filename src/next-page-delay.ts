import type { Cursor, FeedPage } from './feed-page.js';

/** What `pages()` does after a page: read the next one after `delayMs`, or end. */
export type NextPage = { kind: 'next'; delayMs: number } | { kind: 'end' };

/**
 * Decides what follows a page (pure: the elapsed time is passed in). The ZeroEventHub spec lets a
 * filtering server answer pages without events whose checkpoints still advance, so an empty page
 * is not the end: the feed ends (without a long poll) only when a page neither has events nor
 * moves a cursor. With a long poll, a page that brought nothing is followed by a pause of what is
 * left of `pollIntervalMs` since the request started: nothing against a server that held the
 * request for `wait` seconds, one request per interval against a server that ignores `wait`.
 */
export function nextPageDelay(
  asked: readonly Cursor[],
  page: FeedPage<unknown>,
  options: { waitSeconds: number; pollIntervalMs: number; elapsedMs: number },
): NextPage {
  if (page.events.length > 0 || cursorsMoved(asked, page.cursors)) return { kind: 'next', delayMs: 0 };
  if (!(options.waitSeconds > 0)) return { kind: 'end' };
  return { kind: 'next', delayMs: Math.max(0, options.pollIntervalMs - options.elapsedMs) };
}

/** Whether any cursor of `next` differs from the one asked for in its partition. */
export function cursorsMoved(asked: readonly Cursor[], next: readonly Cursor[]): boolean {
  const before = new Map(asked.map((c) => [c.partition, c.cursor]));
  return next.some((c) => before.get(c.partition) !== c.cursor);
}
