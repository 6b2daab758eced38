import { maxBodyBytes, maxInflatedBytes, type BatchReply, type ReceiptReply, type WireRule } from '../wire.js';
import type { CollectorConfig } from './collector-options.js';
import { matchRule } from './drop-rules.js';
import { inflateCapped, isGzip } from './inflate-capped.js';
import { paramsProblem, parseBatch } from './parse-batch.js';
import type { PartitionClient } from './partition-client.js';
import { partitionOf } from './partition-of.js';
import type { AppendEvent, AppendReply, ReceiptRead } from './partition-protocol.js';
import { readBody } from './read-body.js';
import type { IngestOutcome } from './count-outcome.js';
import { errorReply } from './reply.js';
import { keyForStream } from './verify-signature.js';

/** What ingest needs besides the request. */
export interface IngestContext {
  config: CollectorConfig;
  partitions: PartitionClient;
  verify: (key: string, body: Uint8Array, sig: string | null) => Promise<boolean>;
  /** Told what every request came to (every refusal is counted with its reason). */
  count: (outcome: IngestOutcome) => void;
}

const knownEncodings = new Set(['gzip', 'identity', 'none']);

/**
 * POST {ingestPath}: wire format v1. Checks in cost order (size before reading, signature over
 * the raw bytes before inflating, depth before parsing), then appends to each partition and
 * answers 2xx only once every partition (and the receipt) has committed.
 */
export async function handleIngest(request: Request, url: URL, context: IngestContext): Promise<Response> {
  const { config } = context;
  const params = url.searchParams;
  let bytesIn = 0;
  const refuse = (status: number, code: string, message: string, headers?: HeadersInit) => {
    context.count({ route: 'ingest', status, code, accepted: 0, duplicates: 0, ruled: 0, bytesIn });
    return errorReply(status, code, message, headers);
  };
  const stream = params.get('stream');
  const rid = params.get('rid');
  const paramProblem = paramsProblem(stream, rid);
  if (paramProblem) {
    await request.body?.cancel().catch(() => undefined);
    return refuse(400, 'bad_parameter', paramProblem);
  }
  const encoding = params.get('encoding') ?? (request.headers.get('content-encoding')?.trim().toLowerCase() || null);
  if (encoding !== null && !knownEncodings.has(encoding)) {
    await request.body?.cancel().catch(() => undefined);
    return refuse(400, 'bad_encoding', `unsupported encoding "${encoding}"; use gzip or none`);
  }

  const read = await readBody(request, maxBodyBytes, config.bodyTimeoutMs);
  if (read.kind === 'too_large') return refuse(413, 'too_large', read.message, { connection: 'close' });
  if (read.kind === 'timeout') return refuse(408, 'body_timeout', read.message, { connection: 'close' });
  if (read.kind === 'broken') return refuse(400, 'bad_body', read.message, { connection: 'close' });
  const raw = read.bytes;
  bytesIn = raw.length;

  // The key of the request's stream; parseBatch later refuses any event of another stream, so
  // this key has signed only events of its own stream.
  const key = keyForStream(config.keys, stream ?? undefined);
  if (key !== undefined && !(await context.verify(key, raw, params.get('sig')))) {
    const which = stream === null ? 'the default key' : `the key of stream "${stream}"`;
    return refuse(401, 'bad_signature', params.has('sig') ? `sig does not match ${which}` : `sig is missing; requests need ${which}`);
  }

  let body = raw;
  if (encoding === 'gzip' || isGzip(raw)) {
    const inflated = inflateCapped(raw, maxInflatedBytes);
    if (inflated.kind === 'too_large') return refuse(413, 'too_large', inflated.message);
    if (inflated.kind === 'bad_gzip') return refuse(400, 'bad_gzip', inflated.message);
    body = inflated.bytes;
  }
  const parsed = parseBatch(body, stream ?? undefined);
  if (!parsed.ok) return refuse(parsed.status, parsed.code, parsed.message);

  const test = params.get('test');
  if (test === '1' || test === 'true') {
    context.count({ route: 'ingest', status: 200, code: 'test', accepted: 0, duplicates: 0, ruled: 0, bytesIn });
    return Response.json({ accepted: 0, duplicates: 0, test: true });
  }

  const byPartition = new Map<number, AppendEvent[]>();
  for (const { event, data } of parsed.events) {
    const partition = partitionOf(event.sourceId, config.partitionCount);
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push({ id: event.id, data, rule: config.rules.length ? matchRule(config.rules, event) : -1 });
  }
  const receivedAt = config.now();
  const receipt = rid === null ? undefined : { rid, at: receivedAt, ttlMs: config.receiptTtlMs, maxReceipts: config.maxReceipts };
  const groups = [...byPartition];
  let replies: AppendReply[];
  try {
    if (groups.length === 1) {
      // One partition (a browser's batch: one sourceId): events and receipt in one transaction.
      const [partition, events] = groups[0]!;
      replies = [await context.partitions.call<AppendReply>(partition, '/append', { events, rid, receivedAt, receipt })];
    } else {
      replies = await Promise.all(groups.map(([partition, events]) => context.partitions.call<AppendReply>(partition, '/append', { events, rid, receivedAt })));
      // Only once every partition has committed: a receipt promises the whole request (and
      // says which of its events the rules dropped, for a page that never heard this reply).
      const ruled = replies.flatMap((part) => part.ruled.map((r) => r.id));
      if (receipt) await context.partitions.call(receiptPartition(groups), '/receipt', ruled.length ? { ...receipt, ruled } : receipt);
    }
  } catch (error) {
    // Some partitions may have committed: the retry finds those events as duplicates.
    return refuse(503, 'unavailable', `storage did not commit: ${(error as Error).message}`, { 'retry-after': '1' });
  }
  const reply = batchReply(replies, config.rules);
  context.count({ route: 'ingest', status: 200, code: 'ok', accepted: reply.accepted, duplicates: reply.duplicates, ruled: reply.ruled?.length ?? 0, bytesIn });
  return Response.json(reply);
}

/** Sums the partitions' replies into the wire's {@link BatchReply}: `ruled` ids and the rules they matched. */
export function batchReply(replies: AppendReply[], rules: readonly WireRule[]): BatchReply {
  const reply: BatchReply = { accepted: 0, duplicates: 0 };
  const ruled: string[] = [];
  const matched = new Set<number>();
  for (const part of replies) {
    reply.accepted += part.accepted;
    reply.duplicates += part.duplicates;
    for (const { id, rule } of part.ruled) {
      ruled.push(id);
      matched.add(rule);
    }
  }
  if (ruled.length) {
    reply.ruled = ruled;
    reply.rules = [...matched].sort((a, b) => a - b).map((index) => rules[index]!);
  }
  return reply;
}

/** Where a request's receipt goes: its first partition (an empty batch: partition 0). */
function receiptPartition(groups: [number, AppendEvent[]][]): number {
  return groups[0]?.[0] ?? 0;
}

/**
 * GET {ingestPath}?receipt=<rid>: was a request with that rid committed (within the receipt TTL),
 * and which of its events the rules dropped (`ruled`, as the request's own reply said).
 * A receipt lives with its request's events, so the question goes to every partition: it is
 * asked once per page load at most, while ingest saves a commit per request.
 */
export async function handleReceipt(url: URL, context: IngestContext): Promise<Response> {
  const rid = url.searchParams.get('receipt') ?? '';
  const problem = paramsProblem(null, rid);
  if (problem) return errorReply(400, 'bad_parameter', problem.replace('rid parameter', 'receipt parameter'));
  const { config } = context;
  try {
    const since = config.now() - config.receiptTtlMs;
    const path = `/receipt?rid=${encodeURIComponent(rid)}&since=${since}`;
    const found = await Promise.all(Array.from({ length: config.partitionCount }, (_, i) => context.partitions.call<ReceiptRead>(i, path)));
    const reply: ReceiptReply = { rid, received: found.some((f) => f.received) };
    const ruled = found.flatMap((f) => f.ruled ?? []);
    if (ruled.length) reply.ruled = ruled;
    return Response.json(reply, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorReply(503, 'unavailable', `storage did not answer: ${(error as Error).message}`, { 'retry-after': '1' });
  }
}
