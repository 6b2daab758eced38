// A simulated network and collector under the tracker's real HTTP transport (the injected
// `fetch`). The collector checks every event with wire.ts exactly as the real one does, stores
// each id once, drops events under its own rules and says so (`ruled`), and answers what the
// history's script says: 2xx with good, empty, malformed, hostile or endless bodies, redirects,
// 4xx, 429 with every form of Retry-After, 5xx, timeouts and resets. It records what a browser
// or undici would have done, so the invariant checker can tell stored from claimed.
import { gunzipSync, strFromU8 } from 'fflate';
import { eventProblem, jsonDepthExceeds, maxBatchEvents, maxBodyBytes, maxDepth, maxReplyBytes, type BatchReply, type ReceiptReply } from '../../src/wire.js';
import type { SimClock } from './sim-clock.js';

/** One scripted answer to one request. */
export type Reply =
  | { kind: 'ok'; body: 'reply' | 'empty' | 'malformed' | 'huge' | 'endless'; rules?: RulesVariant }
  /** `retryAfter` is the header as sent, but `date+N`: an HTTP-date N s ahead, written when answered. */
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308 }
  | { kind: 'timeout' }
  | { kind: 'reset' }
  /** The collector stored the batch, then the connection died before the reply (a duplicate later). */
  | { kind: 'storedThenReset' };

/** Rules a reply advertises: genuine ones for the collector's rule, or hostile ones. */
export type RulesVariant = 'genuine' | 'ttlZero' | 'emptyStream' | 'emptyName' | 'noField' | 'huge' | 'many' | 'notArray' | 'nonString';

/** The event name the collector drops under its rule (events named so are never stored). */
export const ruledName = 'debug_log';

/** What the collector saw of one event id. */
export interface IdRecord {
  stored: boolean;
  /** The collector dropped it under its rule and listed it in `ruled`. */
  ruled: boolean;
  /** The last answer to a request that carried it, and whether the script chose it (not validation). */
  lastStatus?: number;
  scripted?: boolean;
  /** Carried by the request alone. */
  alone?: boolean;
  /**
   * A scripted refusal came for a request carrying it that justifies dropping it as `rejected`:
   * any 4xx but 400, or a 400 for it alone (a 400 for a batch must be split down to the culprit).
   */
  refusable?: boolean;
}

/** A problem the network saw that the tracker caused. */
export type NetworkViolation = string;

/** The network of one history. */
export interface SimNetwork {
  /** A fetch for one tab; after `kill()` its requests never complete (the tab is gone). */
  handle(owner: string): { fetch: typeof fetch; kill(): void };
  /** From now on every request gets a healthy 200 with a BatchReply. */
  heal(): void;
  /** The wall clock jumped: a pause measured on it may legitimately end early or late. */
  noteJump(): void;
  readonly ids: Map<string, IdRecord>;
  readonly violations: NetworkViolation[];
  /** Requests per owner, started and completed (for the probe and Retry-After checks). */
  readonly requests: number;
  /** Bytes the tracker pulled from reply bodies it should have cancelled. */
  readonly overRead: number;
  /** The request log: owner, start and end (monotonic ms), outcome. */
  readonly log: RequestLog[];
  /** Starts and ends of requests in the order they happened. */
  readonly marks: { kind: 'start' | 'end'; entry: RequestLog }[];
}

/** One request as the network saw it. */
export interface RequestLog {
  owner: string;
  start: number;
  end?: number;
  /** 'ok' when the collector answered (2xx, 4xx), 'retry' when it failed (5xx, 408, 429, 3xx, timeout, reset). */
  outcome?: string;
  retryAfterMs?: number;
  /** Wall-clock jumps so far when it started and ended: a pause on the wall clock moves with them. */
  jumpsAtStart: number;
  jumpsAtEnd?: number;
}

const healthy: Reply = { kind: 'ok', body: 'reply' };

/** Creates the network and collector of one history, answering requests from `script` in order. */
export function createSimNetwork(clock: SimClock, script: readonly Reply[], latencyMs: number): SimNetwork {
  const ids = new Map<string, IdRecord>();
  const violations: NetworkViolation[] = [];
  const log: RequestLog[] = [];
  const marks: { kind: 'start' | 'end'; entry: RequestLog }[] = [];
  let next = 0;
  let healed = false;
  let requests = 0;
  let overRead = 0;
  let jumps = 0;
  /** Request ids of batches the collector committed (stored or ruled every event), with the ids it ruled. */
  const committed = new Map<string, string[]>();
  const record = (id: string) => {
    let entry = ids.get(id);
    if (!entry) ids.set(id, (entry = { stored: false, ruled: false }));
    return entry;
  };

  function replyBody(reply: Extract<Reply, { kind: 'ok' }>, accepted: number, duplicates: number, ruled: string[]): BodyInit | null {
    switch (reply.body) {
      case 'empty':
        return null;
      case 'malformed':
        return '{"accepted": 3, "ruled": [';
      case 'huge':
        return `{"accepted":${accepted},"duplicates":${duplicates},"pad":"${'x'.repeat(maxReplyBytes * 4)}"}`;
      case 'endless': {
        let pulled = 0;
        const chunk = new TextEncoder().encode(' '.repeat(4096));
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled += chunk.length;
            if (pulled > maxReplyBytes * 2) overRead = Math.max(overRead, pulled);
            // Past 4 MB a real tracker would be on its way to 1.6 GB: stop the read here.
            if (pulled > 4 * 1024 * 1024) controller.error(new Error('sim: endless body read past 4 MB'));
            else controller.enqueue(chunk);
          },
        });
      }
      default: {
        const body: BatchReply = { accepted, duplicates };
        if (ruled.length) body.ruled = ruled;
        const rules = reply.rules ? rulesOf(reply.rules) : undefined;
        if (rules !== undefined) (body as { rules?: unknown }).rules = rules;
        return JSON.stringify(body);
      }
    }
  }

  async function answer(owner: string, url: string, init: RequestInit | undefined, entry: RequestLog): Promise<Response> {
    const reply = healed || next >= script.length ? healthy : script[next++]!;
    requests++;
    const signal = init?.signal ?? undefined;
    if (init?.method !== 'POST') violations.push(`${owner} sent a ${String(init?.method)} instead of a POST`);
    // Latency first: the signal may abort the request while it is on the wire.
    await wait(clock, latencyMs, signal);
    if (reply.kind === 'timeout') {
      await wait(clock, Infinity, signal);
    }
    if (reply.kind === 'reset') throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
    if (reply.kind === 'status') {
      note(events(), reply.status, true);
      const headers: Record<string, string> = {};
      const ahead = /^date\+(\d+)$/.exec(reply.retryAfter ?? '');
      if (reply.retryAfter !== undefined) headers['retry-after'] = ahead ? new Date(clock.wall() + Number(ahead[1]) * 1000).toUTCString() : reply.retryAfter;
      return new Response(`{"error":"scripted ${reply.status}"}`, { status: reply.status, headers });
    }
    const parsed = events();
    const rid = new URL(url).searchParams.get('rid');
    if (reply.kind === 'redirect') {
      const location = url.replace(/^http:/, 'https:');
      if (init?.redirect === 'manual') {
        // Node's fetch hands back the 3xx itself (a browser an opaqueredirect): no body was stored.
        note(parsed, reply.status, true);
        return new Response(null, { status: reply.status, headers: { location } });
      }
      if (reply.status === 307 || reply.status === 308) {
        // Followed with the same method and body: the final URL is the collector itself.
        violations.push(`${owner}: fetch followed a ${reply.status} (redirect: 'manual' not set)`);
        return collect(parsed, healthy, true, rid);
      }
      // 301/302/303 are followed as a GET without a body; the final URL answers 200.
      violations.push(`${owner}: fetch followed a ${reply.status} as a GET without the body (redirect: 'manual' not set)`);
      note(parsed, 200, true);
      const response = new Response('', { status: 200 });
      Object.defineProperty(response, 'redirected', { value: true });
      Object.defineProperty(response, 'url', { value: location });
      return response;
    }
    if (reply.kind === 'storedThenReset') {
      collect(parsed, healthy, false, rid);
      throw new TypeError('fetch failed', { cause: new Error('ECONNRESET after the request was read') });
    }
    return collect(parsed, reply, false, rid);

    function events(): { list: Record<string, unknown>[] | undefined; bad: boolean; bytes: number } {
      const bytes = init?.body instanceof Uint8Array ? init.body : new Uint8Array();
      try {
        const text = new URL(url).searchParams.get('encoding') === 'gzip' ? strFromU8(gunzipSync(bytes)) : new TextDecoder().decode(bytes);
        const body = JSON.parse(text) as { events?: unknown };
        if (!Array.isArray(body.events)) return { list: undefined, bad: true, bytes: bytes.length };
        const list = body.events as Record<string, unknown>[];
        const bad = list.some((event) => eventProblem(event) !== undefined || (event.properties !== undefined && jsonDepthExceeds(JSON.stringify(event.properties), maxDepth - 1)));
        return { list, bad, bytes: bytes.length };
      } catch {
        return { list: undefined, bad: true, bytes: bytes.length };
      }
    }
  }

  async function answerReceipt(rid: string, signal: AbortSignal | undefined): Promise<Response> {
    await wait(clock, latencyMs, signal);
    // As the real collectors answer (wire.ts ReceiptReply): the request's ruled ids, when any.
    const ruled = committed.get(rid);
    const body: ReceiptReply = { rid, received: ruled !== undefined };
    if (ruled?.length) body.ruled = ruled;
    return new Response(JSON.stringify(body), { status: 200 });
  }

  function note(parsed: { list: Record<string, unknown>[] | undefined }, status: number, scripted: boolean): void {
    const list = parsed.list ?? [];
    for (const event of list) {
      if (typeof event?.id !== 'string') continue;
      const entry = record(event.id);
      entry.lastStatus = status;
      entry.scripted = scripted;
      entry.alone = list.length === 1;
      if (scripted && status >= 400 && status < 500 && (status !== 400 || list.length === 1)) entry.refusable = true;
    }
  }

  // The collector proper: validation as the real one does it (wire.ts), then store or rule.
  function collect(parsed: { list: Record<string, unknown>[] | undefined; bad: boolean; bytes: number }, reply: Reply, scripted: boolean, rid: string | null): Response {
    if (parsed.list && (parsed.list.length > maxBatchEvents || parsed.bytes > maxBodyBytes)) {
      note(parsed, 413, false);
      return new Response('{"error":"too large"}', { status: 413 });
    }
    if (!parsed.list || parsed.bad) {
      note(parsed, 400, false);
      return new Response('{"error":"invalid event"}', { status: 400 });
    }
    note(parsed, 200, scripted);
    let accepted = 0;
    let duplicates = 0;
    const ruled: string[] = [];
    for (const event of parsed.list) {
      const entry = record(event.id as string);
      // The collector drops its rule's events whatever the reply body says; only a well-formed
      // BatchReply can tell the tracker so (the others are the collector's bug, not the tracker's).
      if (event.name === ruledName && reply.kind === 'ok' && reply.body === 'reply') {
        entry.ruled = true;
        ruled.push(event.id as string);
      } else if (entry.stored) duplicates++;
      else {
        entry.stored = true;
        accepted++;
      }
    }
    if (rid !== null) committed.set(rid, ruled);
    return new Response(replyBody(reply.kind === 'ok' ? reply : { kind: 'ok', body: 'reply' }, accepted, duplicates, ruled), { status: 200 });
  }

  return {
    ids,
    violations,
    log,
    marks,
    get requests() {
      return requests;
    },
    get overRead() {
      return overRead;
    },
    heal() {
      healed = true;
    },
    noteJump() {
      jumps++;
    },
    handle(owner) {
      let dead = false;
      const simFetch = ((input: RequestInfo | URL, init?: RequestInit) => {
        if (dead) return new Promise<never>(() => undefined);
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        // A receipt query (wire.ts ReceiptReply) is no batch: answered from what was committed,
        // outside the batch log (the one-probe and backoff checks are about batches).
        const receipt = (init?.method ?? 'GET') === 'GET' ? new URL(url).searchParams.get('receipt') : null;
        if (receipt !== null) return answerReceipt(receipt, init?.signal ?? undefined);
        const entry: RequestLog = { owner, start: clock.monotonic(), jumpsAtStart: jumps };
        log.push(entry);
        marks.push({ kind: 'start', entry });
        return answer(owner, url, init, entry).then(
          (response) => {
            entry.end = clock.monotonic();
            // As the queue-wide backoff sees it: the collector answered (2xx, 4xx), or it failed
            // (5xx, 408, 429, a redirect: the endpoint itself did not answer).
            const failed = response.redirected || response.status >= 500 || response.status === 429 || response.status === 408 || (response.status >= 300 && response.status < 400);
            entry.outcome = failed ? 'retry' : 'ok';
            marks.push({ kind: 'end', entry });
            const retryAfter = response.headers.get('retry-after');
            if (retryAfter && /^\d+$/.test(retryAfter)) entry.retryAfterMs = Number(retryAfter) * 1000;
            // An HTTP-date asks for a pause until then (whole seconds: up to 999 ms short of N s).
            else if (retryAfter?.endsWith(' GMT') && Date.parse(retryAfter) >= clock.wall()) entry.retryAfterMs = Date.parse(retryAfter) - clock.wall();
            entry.jumpsAtEnd = jumps;
            return dead ? new Promise<never>(() => undefined) : response;
          },
          (error: unknown) => {
            entry.end = clock.monotonic();
            entry.outcome = 'retry';
            marks.push({ kind: 'end', entry });
            if (dead) return new Promise<never>(() => undefined);
            throw error;
          },
        );
      }) as typeof fetch;
      return {
        fetch: simFetch,
        kill() {
          dead = true;
        },
      };
    },
  };

  function rulesOf(variant: RulesVariant): unknown {
    switch (variant) {
      case 'genuine':
        return [{ name: ruledName, ttlMs: 60_000 }];
      case 'ttlZero':
        return [{ name: ruledName, ttlMs: 0 }];
      case 'emptyStream':
        return [{ stream: '', ttlMs: 3_600_000 }];
      case 'emptyName':
        return [{ name: '', ttlMs: 3_600_000 }];
      case 'noField':
        return [{ ttlMs: 3_600_000 }];
      case 'huge':
        return [{ name: ruledName, ttlMs: 1e300 }, { name: 'x'.repeat(10_000), ttlMs: 60_000 }];
      case 'many':
        // Over wire.ts maxRules, yet within maxReplyBytes: a reply the tracker can read must be bounded by it.
        return Array.from({ length: 500 }, (_, i) => ({ name: `rule-${i}`, ttlMs: 3_600_000 }));
      case 'notArray':
        return { name: ruledName, ttlMs: 60_000 };
      case 'nonString':
        return [{ name: 42, ttlMs: 60_000 }, { stream: null, ttlMs: 60_000 }, null, 'x'];
    }
  }
}

/** Waits `ms` of simulated time, or rejects with the signal's reason when it aborts first. */
function wait(clock: SimClock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const cancel = Number.isFinite(ms) ? clock.after(ms, () => (signal?.removeEventListener('abort', onAbort), resolve())) : () => undefined;
    function onAbort() {
      cancel();
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
