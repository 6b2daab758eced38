// A minimal W3C WebDriver client over fetch: the few endpoints the WebKit harness needs.

/** A WebDriver error reply, with the protocol's error code. */
export class WebDriverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WebDriverError';
  }
}

/** One session of a WebDriver server at `base` (e.g. http://127.0.0.1:4444). */
export interface WebDriverSession {
  readonly id: string;
  readonly capabilities: Record<string, unknown>;
  /** `method path` relative to the session (e.g. 'POST', '/url'); resolves with `value`. */
  command<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** Ends the session. */
  delete(): Promise<void>;
}

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(base + path, {
    method,
    // Above every session timeout (scripts, page loads: 60 s): a hung browser becomes an error.
    signal: AbortSignal.timeout(90_000),
    headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let reply: { value?: { error?: string; message?: string } & Record<string, unknown> };
  try {
    reply = JSON.parse(text);
  } catch {
    throw new WebDriverError('invalid reply', `[harness] WebDriver ${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  const value = reply.value;
  if (!response.ok || (value && typeof value.error === 'string')) {
    throw new WebDriverError(value?.error ?? `HTTP ${response.status}`, `[harness] WebDriver ${method} ${path}: ${value?.error}: ${value?.message ?? text.slice(0, 200)}`);
  }
  return value as T;
}

/** Opens a session with `capabilities` (alwaysMatch). */
export async function createSession(base: string, capabilities: Record<string, unknown>): Promise<WebDriverSession> {
  const created = await call<{ sessionId: string; capabilities: Record<string, unknown> }>(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
  const prefix = `/session/${created.sessionId}`;
  return {
    id: created.sessionId,
    capabilities: created.capabilities,
    command: (method, path, body) => call(base, method, prefix + path, body ?? (method === 'POST' ? {} : undefined)),
    delete: async () => void (await call(base, 'DELETE', prefix)),
  };
}

/** Resolves once the server at `base` answers `/status` ready; rejects after `timeoutMs`. */
export async function waitReady(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const status = await call<{ ready?: boolean }>(base, 'GET', '/status');
      if (status.ready !== false) return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`[harness] WebDriver at ${base} not ready after ${timeoutMs} ms: ${String(error)}`);
    }
    if (Date.now() > deadline) throw new Error(`[harness] WebDriver at ${base} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
