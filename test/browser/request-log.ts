// A logging proxy in front of the reference collector: each request's time, method, rid (or
// receipt rid), event ids and status, so a test can say which request carried a duplicate and
// when (issue 12's reload-offline duplicates were traced with it).
import { createServer, request, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One request as the collector got it. */
export interface LoggedRequest {
  at: number;
  method: string;
  /** `rid` of a batch, or `receipt` of a receipt request. */
  rid: string | null;
  receipt: string | null;
  ids: string[];
  status: number;
  /** The collector's reply (a receipt's `received`, a batch's counts). */
  reply: string;
}

export interface RequestLog {
  /** The proxy's ingest URL: give it to the tracker instead of the collector's. */
  endpoint: string;
  requests: LoggedRequest[];
  /** One line a request, times from `since`. */
  format(since: number): string;
  close(): Promise<void>;
}

function idsOf(body: Buffer): string[] {
  try {
    const text = body[0] === 0x1f ? gunzipSync(body).toString() : body.toString();
    const parsed = JSON.parse(text) as { events?: { id?: unknown }[] } | { id?: unknown }[];
    const events = Array.isArray(parsed) ? parsed : (parsed.events ?? []);
    return events.map((event) => String(event?.id));
  } catch {
    return [];
  }
}

const read = (stream: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (part: Buffer) => parts.push(part));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });

/** Starts a proxy to `target` (the collector's base URL, e.g. `http://127.0.0.1:1234`). */
export async function startRequestLog(target: string): Promise<RequestLog> {
  const requests: LoggedRequest[] = [];
  const to = new URL(target);
  const pending = new Map<object, string>(); // requests under way, and where each is
  const server = createServer((req, res) => {
    const at = Date.now();
    pending.set(req, `${req.method} ${req.url} body:reading`);
    res.on('close', () => pending.delete(req));
    void read(req).then((body) => {
      pending.set(req, `${req.method} ${req.url} body:${body.length}B upstream:waiting`);
      const url = new URL(req.url ?? '/', target);
      const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (reply) => {
        void read(reply).then((replyBody) => {
          const logged = { at, method: req.method ?? '', rid: url.searchParams.get('rid'), receipt: url.searchParams.get('receipt') };
          if (url.pathname === '/v1/batch') requests.push({ ...logged, ids: idsOf(body), status: reply.statusCode ?? 0, reply: replyBody.toString().slice(0, 200) });
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          res.end(replyBody);
        });
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}/v1/batch`,
    requests,
    format: (since) =>
      requests
        .map((r) => `${String(r.at - since).padStart(6)} ms ${r.method} ${r.receipt ? `receipt ${r.receipt}` : `rid ${r.rid}`} ${r.ids.length ? `${r.ids.length} events (${r.ids[0]}..${r.ids[r.ids.length - 1]})` : ''} -> ${r.status} ${r.reply}`)
        .join('\n'),
    // Connections still open (a request the browser never finished, keep-alive sockets) are cut:
    // server.close() alone waited for one until the test's 2 minutes ran out (CI, Chromium).
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (pending.size) console.log(`[request-log] cut at close, still under way: ${[...pending.values()].join('; ')}`);
        server.closeAllConnections();
      }),
  };
}
