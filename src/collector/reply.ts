/** A JSON error reply: `{ error: code, message }`, the shape every collector route answers with. */
export function errorReply(status: number, code: string, message: string, headers?: HeadersInit): Response {
  const response = Response.json({ error: code, message }, { status, headers });
  response.headers.set('cache-control', 'no-store');
  return response;
}
