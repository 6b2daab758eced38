// A dead-end collector for every SDK alike: it answers 200 to any POST or GET on any path, with
// CORS for any origin (credentials included, as Snowplow sends them), and counts requests, body
// bytes and events. It counts an event per occurrence of a marker string (the event name the
// benchmark tracks) in the decoded body, so it needs no knowledge of each SDK's wire format:
// gzip (by magic bytes), `data=` form bodies (PostHog's legacy form, plain or base64) and JSON
// all decode to text that contains the marker once per event.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** Starts the sink on 127.0.0.1 (a free port). `marker` is the string counted once per event. */
export async function startSink({ marker }) {
  let counts = fresh();
  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    res.setHeader('Access-Control-Allow-Origin', origin || '*');
    if (origin) res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] || '*');
    res.setHeader('Access-Control-Max-Age', '600');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method === 'OPTIONS') {
      counts.preflights++;
      res.writeHead(204).end();
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://sink');
      counts.requests++;
      counts.bytesIn += body.length;
      counts.headerBytesIn += headerBytes(req);
      counts.events += countMarker(decode(body) + safeDecode(url.search), marker);
      const text = '{"code":200,"status":1}';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': text.length, 'Cache-Control': 'no-store' });
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    counts: () => ({ ...counts }),
    reset() {
      counts = fresh();
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function fresh() {
  return { requests: 0, preflights: 0, bytesIn: 0, headerBytesIn: 0, events: 0 };
}

// The request line and headers as they came over the wire (approximately: Node normalizes case).
function headerBytes(req) {
  let bytes = `${req.method} ${req.url} HTTP/1.1\r\n`.length + 2;
  for (let i = 0; i < req.rawHeaders.length; i += 2) bytes += req.rawHeaders[i].length + req.rawHeaders[i + 1].length + 4;
  return bytes;
}

function decode(body) {
  let bytes = body;
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      return '';
    }
  }
  const text = bytes.toString('utf8');
  if (!text.startsWith('data=')) return text;
  // PostHog's form encoding: data=<urlencoded JSON or base64 JSON>
  const data = new URLSearchParams(text).get('data') ?? '';
  if (/^[A-Za-z0-9+/=\s]+$/.test(data)) return Buffer.from(data, 'base64').toString('utf8');
  return data;
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function countMarker(text, marker) {
  let count = 0;
  for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) count++;
  return count;
}
