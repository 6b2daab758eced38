// Runs in Node before the Workers tests: the reference collector (which needs node:http), a small
// control server through which tests inside workerd drive it, and the demo Worker, twice (HTTP
// and Queue delivery), each in its own workerd started by `node demo/worker/run.mjs`. A child
// process, because the pool inlines every dependency of this file through Vite (slow, noisy).
//
// Why a control server: the collector's own admin routes go down with it when it refuses
// connections, and a test in workerd cannot call Node functions. Routes:
//   POST /faults {…} → setFaults · DELETE /faults → clearFaults · POST /reset → reset
//   GET /events → { total, events } · GET /stats → the collector's counters
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startCollector } from '../../demo/collector/collector.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    collectorEndpoint: string;
    controlUrl: string;
    demoUrl: string;
    demoQueueUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const collector = await startCollector({ port: 0, quiet: true });
  const control = await startControl(collector);
  // Two demo instances: HTTP delivery, and delivery through the local Queue and its consumer.
  const [demo, demoQueue] = await Promise.all([startDemo(collector.endpoint, 'http'), startDemo(collector.endpoint, 'queue')]);
  project.provide('collectorEndpoint', collector.endpoint);
  project.provide('controlUrl', control.url);
  project.provide('demoUrl', demo.url);
  project.provide('demoQueueUrl', demoQueue.url);
  return async () => {
    await Promise.all([demo.stop(), demoQueue.stop()]);
    // workerd keeps connections alive: cut them, or close() waits for their idle timeout.
    control.server.closeAllConnections();
    await new Promise((resolve) => control.server.close(resolve));
    await collector.close();
  };
}

type Collector = Awaited<ReturnType<typeof startCollector>>;

async function startControl(collector: Collector): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const route = `${req.method} ${new URL(req.url ?? '/', 'http://control').pathname}`;
      if (route === 'POST /faults') {
        let text = '';
        for await (const chunk of req) text += chunk;
        collector.setFaults(JSON.parse(text));
        return reply(200, collector.faults());
      }
      if (route === 'DELETE /faults') return reply(200, (collector.clearFaults(), collector.faults()));
      if (route === 'POST /reset') return reply(200, (collector.reset(), { ok: true }));
      if (route === 'GET /events') {
        const events = collector.events();
        return reply(200, { total: events.length, events });
      }
      if (route === 'GET /stats') return reply(200, collector.stats());
      reply(404, { error: `no route ${route}` });
    } catch (error) {
      reply(500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}` };
}

const runScript = fileURLToPath(new URL('../../demo/worker/run.mjs', import.meta.url));

/** Starts `node demo/worker/run.mjs` and resolves with the URL it prints. */
function startDemo(collectorEndpoint: string, delivery: 'http' | 'queue'): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [runScript, '--collector', collectorEndpoint, '--port', '0', '--delivery', delivery, '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM'); // run.mjs disposes workerd on SIGTERM
    });
  return new Promise((resolve, reject) => {
    let output = '';
    const timeout = setTimeout(() => (void stop(), reject(new Error(`demo/worker/run.mjs printed no URL within 30 s: ${output}`))), 30_000);
    child.stdout!.on('data', (data: Buffer) => {
      output += data;
      const url = /\[worker demo\] (\S+)/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timeout);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({ url, stop });
    });
    child.once('exit', (code) => reject(new Error(`demo/worker/run.mjs exited with ${code}: ${output}`)));
  });
}
