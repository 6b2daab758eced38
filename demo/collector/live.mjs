/**
 * GET /live: Server-Sent Events carrying the stats every `intervalMs`, for the live demo page.
 * Each connection owns one timer, removed when the client goes away or the collector closes.
 *
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {() => unknown} snapshot
 * @param {AbortSignal} closing aborted when the collector closes
 * @param {number} [intervalMs]
 */
export function handleLive(req, res, snapshot, closing, intervalMs = 250) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    // Proxies such as nginx buffer responses unless told not to; SSE must arrive as written.
    'X-Accel-Buffering': 'no',
  });
  const send = () => res.write(`event: stats\ndata: ${JSON.stringify(snapshot())}\n\n`);
  // The reconnect delay a browser's EventSource should use after losing the stream.
  res.write('retry: 1000\n\n');
  send();
  const timer = setInterval(send, intervalMs);
  const stop = () => {
    clearInterval(timer);
    closing.removeEventListener('abort', end);
  };
  const end = () => {
    stop();
    res.end();
  };
  res.once('close', stop);
  closing.addEventListener('abort', end);
}
