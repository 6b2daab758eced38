import { isHTTPError, isTimeoutError } from 'ky';

/** What went wrong reading the feed. */
export type FeedErrorCode = 'http' | 'network' | 'bad_response' | 'bad_cursor';

/** The error of a failed feed read: a non-2xx reply (with its status and body), a network failure, a malformed reply or bad cursors. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly code: FeedErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The reply's body text (its first 8 KiB), when the server answered with an error. */
  readonly body: string | undefined;

  constructor(code: FeedErrorCode, message: string, details: { status?: number; body?: string; cause?: unknown } = {}) {
    super(`[outbox] ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.body = details.body;
  }
}

/** True for a {@link FeedError}, also one from another realm or copy of the library. */
export function isFeedError(value: unknown): value is FeedError {
  return value instanceof FeedError || (value instanceof Error && value.name === 'FeedError');
}

/** Error bodies are read this far, for the message. */
const maxErrorBodyChars = 8192;

/** The FeedError of what ky threw once its retries were spent. */
export async function feedErrorOf(error: unknown): Promise<FeedError> {
  if (isFeedError(error)) return error;
  if (isHTTPError(error)) {
    const { status } = error.response;
    const body = await readErrorBody(error.response);
    return new FeedError('http', `feed request failed: HTTP ${status}: ${body.slice(0, 300)}`, { status, body });
  }
  if (isTimeoutError(error)) return new FeedError('network', `feed request failed: ${error.message}`, { cause: error });
  return new FeedError('network', `feed request failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** The start of an error reply's body: enough for a message, never a hostile server's gigabytes. */
async function readErrorBody(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < maxErrorBodyChars) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // The status already says what failed; a body that breaks off adds nothing worth a second error.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, maxErrorBodyChars);
}
