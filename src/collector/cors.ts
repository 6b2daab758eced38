/**
 * CORS headers for ingest: a page of an allowed origin may send and read replies, never with
 * credentials (ingest needs none, so a visitor's cookies never ride along). `undefined` when
 * the origin is not allowed.
 */
export function corsHeaders(origin: string | null, allowedOrigins: readonly string[]): Record<string, string> | undefined {
  // Retry-After exposed: a page's tracker honours it on 429 and 503, and CORS hides it otherwise.
  if (allowedOrigins.includes('*')) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Retry-After' };
  if (origin === null) return {};
  if (!allowedOrigins.includes(origin)) return undefined;
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'Retry-After', vary: 'Origin' };
}

/** The 204 reply to a preflight of an allowed origin; the requested headers are echoed (no credentials, so no risk). */
export function preflight(request: Request, cors: Record<string, string>): Response {
  const headers = new Headers(cors);
  headers.set('access-control-allow-methods', 'POST, GET, OPTIONS');
  const requested = request.headers.get('access-control-request-headers');
  if (requested) headers.set('access-control-allow-headers', requested.slice(0, 1024));
  headers.set('access-control-max-age', '600');
  return new Response(null, { status: 204, headers });
}
