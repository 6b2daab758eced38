// A TCP pass-through in front of a server that counts the bytes each way: what really crosses
// the wire for a request (request line, headers and body), which the collector's body count
// (`bytesIn`) leaves out.
import { createServer, connect } from 'node:net';

/** Listens on 127.0.0.1 (a free port) and forwards every connection to `port`. */
export async function startTcpMeter(port) {
  let up = 0;
  let down = 0;
  let connections = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    connections++;
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => (up += chunk.length));
    upstream.on('data', (chunk) => (down += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    counts: () => ({ up, down, connections }),
    reset() {
      up = down = connections = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
