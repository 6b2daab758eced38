// The durable collector as users run it on a machine: `node scripts/collector.mjs` as a child
// process (its workerd in the same process group), killable with SIGKILL like a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/collector.mjs', import.meta.url));

export interface LocalCollector {
  url: string;
  endpoint: string;
  /** pid of the node process (`npm run collector`'s script); its workerd is a child of it */
  pid: number;
  /** SIGKILL to the whole process group (node and workerd), as a power cut; resolves once the port is closed. */
  kill(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the collector restarts on the same one, as a deploy would keep its URL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `npm run collector`'s script and resolves once it printed its ready line (after /health answered). */
export function startLocalCollector(args: { port: number; data: string; partitions?: number; feedToken: string }): Promise<LocalCollector> {
  const child: ChildProcess = spawn(
    process.execPath,
    [script, '--port', String(args.port), '--data', args.data, '--partitions', String(args.partitions ?? 4), '--feed-token', args.feedToken, '--quiet'],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = `http://127.0.0.1:${args.port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    await exited;
    await portClosed(args.port);
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer) => {
      output += data;
      if (output.includes('[collector] ready')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ url, endpoint: `${url}/v1/batch`, pid: child.pid!, kill });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (data: Buffer) => (output += data));
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}: ${output}`)));
  });
}

// workerd dies with its group, but the kernel may take a moment to release the socket.
async function portClosed(port: number): Promise<void> {
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(500) });
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads every partition of the feed from `cursors` until the checkpoints stop advancing. */
export async function readFeed(url: string, token: string, cursors: string[]): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  let current = cursors.slice();
  for (;;) {
    const query = `n=${current.length}&pagesizehint=1000&` + current.map((c, i) => `cursor${i}=${c}`).join('&');
    const response = await fetch(`${url}/feed/v1?${query}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`feed answered ${response.status}: ${await response.text()}`);
    const next = current.slice();
    for (const line of (await response.text()).split('\n')) {
      if (!line) continue;
      const parsed = JSON.parse(line) as { partition: number; cursor?: string; data?: { id: string } };
      if (parsed.cursor !== undefined) next[parsed.partition] = parsed.cursor;
      else ids.push(parsed.data!.id);
    }
    if (next.every((c, i) => c === current[i])) return { ids, cursors: current };
    current = next;
  }
}
