/** Header naming the error code of a refusal, so the front counts refusals without re-reading bodies. */
export const errorCodeHeader = 'x-outbox-error';

/** A JSON error reply: `{ error: code, message }`, the shape every collector route answers with. */
export function errorReply(status: number, code: string, message: string, headers?: HeadersInit): Response {
  const response = Response.json({ error: code, message }, { status, headers });
  response.headers.set('cache-control', 'no-store');
  response.headers.set(errorCodeHeader, code);
  return response;
}
