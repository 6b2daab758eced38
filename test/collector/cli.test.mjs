import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { signBody } from '../../demo/collector/signature.mjs';
import { batchBody, control, event, post } from './harness.mjs';

const CLI = fileURLToPath(new URL('../../demo/collector/cli.mjs', import.meta.url));

/** @param {string[]} args */
function run(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

describe('cli.mjs', () => {
  it('prints its URL, collects, and exits 0 on SIGTERM', async () => {
    const cli = run(['--port', '0', '--partitions', '2', '--latency-ms', '1']);
    // The faults line comes last in the banner.
    while (!/faults .*\n/.test(cli.stdout())) await once(cli.child.stdout, 'data');
    const url = /listening on (\S+)/.exec(cli.stdout())[1];
    expect(cli.stdout()).toMatch(/faults {2}latencyMs=1\n/);

    const reply = await post({ endpoint: `${url}/v1/batch` }, batchBody([event()]));
    expect(reply).toMatchObject({ status: 200, json: { accepted: 1 } });
    const feed = await fetch(`${url}/feed/v1?n=2&cursor0=_first`);
    expect(feed.status).toBe(200);

    cli.child.kill('SIGTERM');
    const [code] = await once(cli.child, 'exit');
    expect(code).toBe(0);
    expect(cli.stdout()).toMatch(/SIGTERM: closing \(1 events stored\)/);
  });

  it('--test-controls, --key and --allow-origin configure the collector', async () => {
    const cli = run(['--port', '0', '--test-controls', '--key', 'web=page-key', '--allow-origin', 'https://app.example']);
    while (!/test controls on/.test(cli.stdout())) await once(cli.child.stdout, 'data');
    const url = /listening on (\S+)/.exec(cli.stdout())[1];

    const body = batchBody([event()]);
    const signed = await post({ endpoint: `${url}/v1/batch` }, body, {
      query: { stream: 'web', sig: signBody('page-key', Buffer.from(body)) },
      headers: { Origin: 'https://app.example' },
    });
    expect(signed.status).toBe(200);
    expect(signed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await post({ endpoint: `${url}/v1/batch` }, body, { query: { stream: 'web' } })).status).toBe(401);
    const events = await control({ url }, '/events');
    expect(events.json.total).toBe(1);
  });

  it('stays up after GET // (it once crashed the process)', async () => {
    const cli = run(['--port', '0']);
    while (!/listening on/.test(cli.stdout())) await once(cli.child.stdout, 'data');
    const url = new URL(/listening on (\S+)/.exec(cli.stdout())[1]);
    const status = await new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      socket.setEncoding('latin1').once('data', (text) => resolve(Number(text.slice(9, 12))));
      socket.on('error', reject);
    });
    expect(status).toBe(404);
    expect((await fetch(`${url.origin}/health`)).status).toBe(200);
    expect(cli.child.exitCode).toBeNull();
  });

  it.each([
    [['--key', 'no-equals-sign'], /--key needs STREAM=KEY/],
    [['--fail-rate', 'lots'], /--fail-rate needs a number/],
    [['--fail-rate', '3'], /fault failRate has an invalid value/],
    [['--colour'], /Unknown option/],
  ])('exits 2 with usage for %j', async (args, message) => {
    const cli = run(['--port', '0', ...args]);
    const [code] = await once(cli.child, 'exit');
    expect(code).toBe(2);
    expect(cli.stderr()).toMatch(message);
    expect(cli.stderr()).toMatch(/usage:/);
  });
});
