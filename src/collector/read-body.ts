/** A request body read under a byte limit. */
export type BodyRead = { kind: 'ok'; bytes: Uint8Array } | { kind: 'too_large'; message: string } | { kind: 'timeout'; message: string } | { kind: 'broken'; message: string };

/**
 * Reads at most `maxBytes` of a request body: a larger `Content-Length` is refused before
 * anything is read, and a body without one is cancelled as soon as it passes the limit, so a
 * hostile client costs at most `maxBytes` of memory; a body still incomplete after `timeoutMs`
 * is cancelled too, so one that never ends does not hold the request for ever. A body the
 * client breaks (bad chunked encoding, connection lost) is `broken`, never an exception.
 */
export async function readBody(request: Request, maxBytes: number, timeoutMs = Infinity): Promise<BodyRead> {
  const declared = Number(request.headers.get('content-length'));
  if (request.headers.has('content-length') && Number.isFinite(declared) && declared > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    return { kind: 'too_large', message: `Content-Length ${declared} is over the limit of ${maxBytes} bytes` };
  }
  if (!request.body) return { kind: 'ok', bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array> | 'timeout';
      try {
        next = await Promise.race([reader.read(), expired]);
      } catch (error) {
        return { kind: 'broken', message: `body could not be read: ${(error as Error)?.message ?? String(error)}`.slice(0, 300) };
      }
      if (next === 'timeout') {
        await reader.cancel().catch(() => undefined);
        return { kind: 'timeout', message: `body did not arrive within ${timeoutMs} ms` };
      }
      const { done, value } = next;
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { kind: 'too_large', message: `body is over the limit of ${maxBytes} bytes` };
      }
      chunks.push(value);
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  if (chunks.length === 1) return { kind: 'ok', bytes: chunks[0]! };
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { kind: 'ok', bytes };
}
