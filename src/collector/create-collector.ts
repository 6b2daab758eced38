import { resolveCollectorConfig, partitionNamespace, type CollectorConfig, type CollectorEnv, type CollectorOptions } from './collector-options.js';
import { corsHeaders, preflight } from './cors.js';
import { handleFeed } from './feed.js';
import { handleIngest, handleReceipt, type IngestContext } from './ingest.js';
import { createOutcomeCounter, type AnalyticsDatasetLike, type IngestOutcome } from './count-outcome.js';
import { createPartitionClient } from './partition-client.js';
import type { DurableObjectNamespaceLike } from './durable-object-types.js';
import { errorCodeHeader, errorReply } from './reply.js';
import { createSignatureVerifier } from './verify-signature.js';

/** The collector as a Worker's default export: a Web-standard `fetch` handler. */
export interface Collector {
  fetch(request: Request, env: CollectorEnv): Promise<Response>;
}

/**
 * The durable collector: wire v1 ingest at `ingestPath`, receipts, the ZeroEventHub feed at
 * `feedPath` and `GET /health`, stored in {@link CollectorPartition} Durable Objects. Export the
 * result as your Worker (or call its `fetch` from your own); nothing else is routed: no admin
 * routes exist.
 */
export function createCollector(options: CollectorOptions = {}): Collector {
  const verify = createSignatureVerifier();
  // Per environment object, so configuration is read once per isolate, not once per request.
  // Stubs, though, are made per request: workerd refuses I/O objects of another request.
  const prepared = new WeakMap<object, { config: CollectorConfig; namespace: DurableObjectNamespaceLike; count: (outcome: IngestOutcome) => void }>();
  const prepare = (env: CollectorEnv) => {
    let found = prepared.get(env);
    if (!found) {
      const config = resolveCollectorConfig(options, env);
      const dataset = (env as Record<string, unknown>)[config.analyticsBinding] as AnalyticsDatasetLike | undefined;
      found = { config, namespace: partitionNamespace(config, env), count: createOutcomeCounter(dataset) };
      prepared.set(env, found);
    }
    return { config: found.config, partitions: createPartitionClient(found.namespace), count: found.count };
  };

  return {
    async fetch(request, env) {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return errorReply(400, 'bad_url', 'the request URL cannot be parsed');
      }
      let setup: ReturnType<typeof prepare>;
      try {
        setup = prepare(env ?? {});
      } catch (error) {
        return errorReply(500, 'misconfigured', (error as Error).message);
      }
      const { config, partitions, count } = setup;
      // Ingest counts its own outcomes (with their events); any other refusal is counted here.
      let counted = false;
      const countOnce = (outcome: IngestOutcome) => {
        counted = true;
        count(outcome);
      };
      const response = await route(request, url, { config, partitions, verify, count: countOnce });
      if (!counted && response.status >= 400) {
        const where = url.pathname === config.ingestPath ? (request.method === 'GET' ? 'receipt' : 'ingest') : url.pathname === config.feedPath ? 'feed' : 'other';
        count({ route: where, status: response.status, code: response.headers.get(errorCodeHeader) ?? 'unknown', accepted: 0, duplicates: 0, ruled: 0, bytesIn: 0 });
      }
      return response;
    },
  };
}

/** Routes one request; never throws (a bug answers 500). */
async function route(request: Request, url: URL, context: IngestContext): Promise<Response> {
  const { config, partitions } = context;
  try {
    if (url.pathname === config.ingestPath) {
      const cors = corsHeaders(request.headers.get('origin'), config.allowedOrigins);
      if (!cors) return errorReply(403, 'origin_not_allowed', `origin ${clip(request.headers.get('origin'))} may not send here`);
      let response: Response;
      if (request.method === 'OPTIONS') response = preflight(request, cors);
      else if (request.method === 'POST') response = await handleIngest(request, url, context);
      else if (request.method === 'GET' && url.searchParams.has('receipt')) response = await handleReceipt(url, context);
      else response = errorReply(405, 'method_not_allowed', `${clip(request.method)} ${clip(url.pathname)}: use POST (or GET ?receipt=<rid>)`, { allow: 'POST, GET, OPTIONS' });
      for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
      return response;
    }
    if (url.pathname === config.feedPath) {
      if (request.method !== 'GET') return errorReply(405, 'method_not_allowed', `${clip(request.method)} ${clip(url.pathname)}: use GET`, { allow: 'GET' });
      return await handleFeed(request, url, config, partitions);
    }
    if (url.pathname === '/health') {
      if (request.method !== 'GET') return errorReply(405, 'method_not_allowed', 'use GET', { allow: 'GET' });
      return Response.json({ ok: true, partitions: config.partitionCount }, { headers: { 'cache-control': 'no-store' } });
    }
    return errorReply(404, 'not_found', `no route ${clip(url.pathname)}`);
  } catch (error) {
    // Reached only by a bug: answer, never crash the isolate, and say nothing internal.
    console.error('[outbox] collector request failed:', error);
    return errorReply(500, 'internal', 'the collector failed on this request');
  }
}

/** Input echoed in an error message, cut short: a refusal never sends an attacker's 64 KiB back. */
function clip(text: string | null): string {
  return text === null || text.length <= 200 ? String(text) : `${text.slice(0, 200)}…`;
}
