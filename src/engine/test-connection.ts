import { errorText, randomId } from '../event.js';
import type { ResolvedOptions } from '../options.js';
import { post, prepareRequest, readReply, redirectProblem } from '../transport/http.js';

/** How a `testConnection()` ended. */
export interface ConnectionTestResult {
  ok: boolean;
  /** The HTTP status, when the collector answered. */
  status?: number;
  /** Why it failed, in words. */
  reason?: string;
}

/**
 * Probes the collector with an empty, flagged request that records nothing, through `stream`'s
 * endpoint and signer when given, else the tracker's. Never rejects: a failure is `ok: false`.
 */
export async function testConnection(options: ResolvedOptions, stream = ''): Promise<ConnectionTestResult> {
  let response: unknown = 'no endpoint: a custom transport delivers';
  if (options.streams[stream]?.endpoint ?? options.endpoint) {
    try {
      const { url, body } = await prepareRequest(options, { rid: randomId(16), stream: String(stream), events: [] }, true);
      response = await post(url, body, options);
    } catch (error) {
      response = error; // a throwing signer
    }
  }
  if (!(response instanceof Response)) return { ok: false, reason: errorText(response) };
  const { status } = response;
  // readReply never rejects.
  const reason = redirectProblem(response) ?? (response.ok ? undefined : `HTTP ${status}${await readReply(response, 200).then((reply) => (reply === undefined ? '' : `: ${JSON.stringify(reply).slice(0, 200)}`))}`);
  return reason ? { ok: false, status, reason } : { ok: true, status };
}
