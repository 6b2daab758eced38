// Helpers of the collector-worker tests: a collector per test over the real Durable Object binding,
// requests as a tracker and a feed consumer send them.
import { env } from 'cloudflare:workers';
import { gzipSync } from 'fflate';
import { createCollector, type CollectorOptions } from 'outbox/collector';

export const origin = 'https://collector.test';
export const feedToken = 'feed-token';

/** A collector with `options` (4 partitions and the feed token by default), called as a Worker is. */
export function collector(options: CollectorOptions = {}) {
  const handler = createCollector({ feedToken, partitionCount: 4, ...options });
  return (path: string, init?: RequestInit) => handler.fetch(new Request(origin + path, init), env);
}

export type Call = ReturnType<typeof collector>;

let sequence = 0;

/** A valid wire event; `overrides` may add or replace fields. */
export function event(overrides: Record<string, unknown> = {}): { id: string; name: string; timestamp: number; [field: string]: unknown } {
  sequence++;
  return { id: `evt-${sequence}`, name: 'click', timestamp: 1_732_000_000_000 + sequence, ...overrides };
}

/** A wire v1 body. */
export function batchBody(events: unknown[]): string {
  return JSON.stringify({ sentAt: Date.now(), events });
}

/** POSTs a body to ingest and reads the JSON reply. */
export async function post(call: Call, body: BodyInit, query: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const params = new URLSearchParams(query).toString();
  const response = await call(`/v1/batch${params ? `?${params}` : ''}`, { method: 'POST', body, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** gzip of a string. */
export function gzip(text: string): Uint8Array {
  return gzipSync(new TextEncoder().encode(text));
}

/** One feed request; the parsed NDJSON lines. */
export async function feed(call: Call, query: string, token: string | null = feedToken) {
  const response = await call(`/feed/v1?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  const lines = response.ok ? text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as FeedLine) : [];
  return { status: response.status, text, lines };
}

export type FeedLine = { partition: number; headers?: Record<string, string>; data?: Record<string, any>; cursor?: string };

/**
 * Reads the whole feed (every partition, from `cursors` or the start) until the checkpoints stop
 * advancing; returns the events in feed order and the final cursors.
 */
export async function readAll(call: Call, partitions = 4, from?: string[]) {
  let cursors = from ?? Array.from({ length: partitions }, () => '_first');
  const events: FeedLine[] = [];
  for (;;) {
    const query = `n=${partitions}&pagesizehint=50&` + cursors.map((c, i) => `cursor${i}=${c}`).join('&');
    const page = await feed(call, query);
    if (page.status !== 200) throw new Error(`feed answered ${page.status}: ${page.text}`);
    const next = cursors.slice();
    for (const line of page.lines) {
      if (line.cursor !== undefined) next[line.partition] = line.cursor;
      else events.push(line);
    }
    if (next.every((c, i) => c === cursors[i])) return { events, cursors };
    cursors = next;
  }
}
