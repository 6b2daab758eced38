/** A request body read under a byte limit. */
export type BodyRead = { kind: 'ok'; bytes: Uint8Array } | { kind: 'too_large'; message: string };

/**
 * Reads at most `maxBytes` of a request body: a larger `Content-Length` is refused before
 * anything is read, and a body without one is cancelled as soon as it passes the limit, so a
 * hostile client costs at most `maxBytes` of memory.
 */
export async function readBody(request: Request, maxBytes: number): Promise<BodyRead> {
  const declared = Number(request.headers.get('content-length'));
  if (request.headers.has('content-length') && Number.isFinite(declared) && declared > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    return { kind: 'too_large', message: `Content-Length ${declared} is over the limit of ${maxBytes} bytes` };
  }
  if (!request.body) return { kind: 'ok', bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { kind: 'too_large', message: `body is over the limit of ${maxBytes} bytes` };
    }
    chunks.push(value);
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
