import { randomId } from '../event.js';
import type { ResolvedOptions } from '../options.js';
import { post, prepareRequest, readReply, redirectProblem } from '../transport/http.js';
import { describeError } from './delivery.js';

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
  const endpoint = options.streams[stream]?.endpoint ?? options.endpoint;
  if (!endpoint) return { ok: false, reason: 'no endpoint: a custom transport delivers' };
  let response: Response | Error;
  try {
    const { url, body } = await prepareRequest(options, { rid: randomId(16), stream: String(stream), events: [] }, true);
    response = await post(url, body, options);
  } catch (error) {
    response = error as Error; // a throwing signer
  }
  if (!(response instanceof Response)) return { ok: false, reason: describeError(response) };
  const redirect = redirectProblem(response);
  if (redirect) return { ok: false, status: response.status, reason: redirect };
  if (response.ok) return { ok: true, status: response.status };
  const reply = await readReply(response, 200); // readReply never rejects
  return { ok: false, status: response.status, reason: `HTTP ${response.status}${reply === undefined ? '' : `: ${JSON.stringify(reply).slice(0, 200)}`}` };
}
