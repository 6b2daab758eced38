// Hostile inputs: what an attacker tried against the reference collector (issue 10), one case a
// test. The durable collector (outbox/collector) mirrors this suite case for case, so keep each
// case small and named after what it proves. The size cases (bodies over the limit by
// Content-Length or streamed, gzip bombs, too many events) are in ingest.test.mjs, the
// signature cases in signature.test.mjs: mirror those too.
import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxDepth } from '../../dist/wire.js';
import { signBody } from '../../demo/collector/signature.mjs';
import { batchBody, call, control, event, post, start } from './harness.mjs';

/**
 * Sends raw bytes as one HTTP request and resolves the status code of the answer (0 when the
 * server closed the connection without one). Raw, because fetch and node:http normalize or
 * refuse the odd request targets an attacker sends.
 * @param {number} port
 * @param {string} head request line and headers, without the blank line
 * @returns {Promise<number>}
 */
function rawStatus(port, head) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(`${head}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk) => {
      text += chunk;
      const line = /^HTTP\/1\.1 (\d{3})/.exec(text);
      // The status line is all we need: a streaming answer (/live) would never end by itself.
      if (line) {
        socket.destroy();
        resolve(Number(line[1]));
      }
    });
    socket.on('close', () => resolve(0));
    socket.on('error', reject);
  });
}

/** @param {number} depth an object nested this deep (the outermost object is depth 1) */
function nested(depth) {
  return JSON.parse('{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1));
}

describe('routing: any request gets a 2xx or a 4xx, never a crash', () => {
  it.each([
    ['GET // (once crashed the process)', 'GET // HTTP/1.1'],
    ['GET //host/path', 'GET //evil.example/v1/batch HTTP/1.1'],
    ['OPTIONS * (asterisk-form)', 'OPTIONS * HTTP/1.1'],
    ['absolute-form', 'GET http://collector/health HTTP/1.1'],
    ['a lone percent', 'GET /% HTTP/1.1'],
    ['dot segments', 'GET /../../etc/passwd HTTP/1.1'],
    ['an unknown method', 'PROPFIND /v1/batch HTTP/1.1'],
    ['a backslash path', 'GET /\\\\evil HTTP/1.1'],
    ['a query only', 'GET ?receipt=x HTTP/1.1'],
  ])('%s', async (_, line) => {
    const collector = await start();
    const status = await rawStatus(collector.port, `${line}\r\nHost: x`);
    expect(status).toBeGreaterThanOrEqual(200);
    expect(status).toBeLessThan(500);
    expect((await call(collector, '/health')).status).toBe(200);
  });

  it('fuzzed methods, paths and headers', async () => {
    const collector = await start();
    const pathChar = fc.constantFrom(...'/%?#&=.:@!$*+,;~_-aZ09\\[]{}|^`"<>'.split(''), '%00', '%2f', '%ff', 'é', '\u2028');
    const path = fc.array(pathChar, { maxLength: 40 }).map((chars) => chars.join(''));
    const known = fc.constantFrom('/v1/batch', '/feed/v1', '/events', '/faults', '/rules', '/reset', '/health', '/stats', '');
    const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'), fc.stringMatching(/^[A-Z]{1,12}$/));
    const header = fc.tuple(
      fc.constantFrom('Origin', 'Content-Type', 'Content-Encoding', 'Authorization', 'x-outbox-test-control', 'Access-Control-Request-Method', 'X-Anything'),
      fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
    );
    await fc.assert(
      fc.asyncProperty(method, known, path, fc.array(header, { maxLength: 4 }), async (verb, base, rest, headers) => {
        // Content-Length: 0 so that a POST does not wait for a body that never comes.
        const lines = [`${verb} ${base}${rest.startsWith('/') || base === '' ? '' : '/'}${rest} HTTP/1.1`, 'Host: x', 'Content-Length: 0'];
        for (const [name, value] of headers) if (name.toLowerCase() !== 'content-length') lines.push(`${name}: ${value}`);
        const status = await rawStatus(collector.port, lines.join('\r\n'));
        // 0: Node's parser may refuse a malformed request by closing, which is not a crash either.
        return status === 0 || (status >= 200 && status < 500);
      }),
      { numRuns: 300 },
    );
    expect((await call(collector, '/health')).status).toBe(200);
    expect(collector.events()).toEqual([]);
  });
});

describe('test controls: off by default, and never reachable by a web page', () => {
  const routes = [
    ['POST', '/reset'],
    ['GET', '/events'],
    ['GET', '/faults'],
    ['POST', '/faults'],
    ['DELETE', '/faults'],
    ['GET', '/rules'],
    ['POST', '/rules'],
  ];

  it.each(routes)('%s %s is a 404 without testControls', async (method, path) => {
    const collector = await start({ faults: { latencyMs: 1 } });
    await post(collector, batchBody([event()]));
    const reply = await control(collector, path, { method, body: method === 'POST' ? JSON.stringify({ rejectStatus: 400 }) : undefined });
    expect(reply.status).toBe(404);
    expect(collector.faults()).toEqual({ latencyMs: 1 });
    expect(collector.events()).toHaveLength(1);
  });

  it('a no-cors page POST (text/plain, no custom header) cannot set faults: 403', async () => {
    const collector = await start({ testControls: true });
    // Exactly what `fetch(url, { method: 'POST', mode: 'no-cors', body })` from any page sends.
    const reply = await call(collector, '/faults', {
      method: 'POST',
      headers: { Origin: 'https://evil.example', 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ rejectStatus: 400 }),
    });
    expect(reply).toMatchObject({ status: 403, json: { error: 'forbidden' } });
    expect(collector.faults()).toEqual({});
    expect((await post(collector, batchBody([event()]))).status).toBe(200);
  });

  it('the preflight of a page adding the header gets no CORS headers, so the browser never sends it', async () => {
    const collector = await start({ testControls: true });
    const reply = await call(collector, '/reset', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-outbox-test-control' },
    });
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    expect(reply.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('with the header, a test runner resets the collector', async () => {
    const collector = await start({ testControls: true });
    await post(collector, batchBody([event()]));
    expect((await control(collector, '/reset', { method: 'POST' })).status).toBe(200);
    expect(collector.events()).toEqual([]);
  });
});

describe('CORS: no website reads anything with credentials', () => {
  it('ingest answers any Origin with *, never Allow-Credentials', async () => {
    const collector = await start();
    const reply = await post(collector, batchBody([event()]), { headers: { Origin: 'https://evil.example', Cookie: 'session=1' } });
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(reply.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it.each([
    ['/events', { testControls: true }],
    ['/feed/v1?n=4&cursor0=_first', {}],
  ])('%s gives a cross-origin page no CORS headers', async (path, options) => {
    const collector = await start(options);
    await post(collector, batchBody([event()]));
    const reply = await control(collector, path, { headers: { Origin: 'https://evil.example' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with feedToken, the feed needs the bearer token', async () => {
    const collector = await start({ feedToken: 'consumer-token' });
    const url = '/feed/v1?n=4&cursor0=_first';
    expect(await call(collector, url)).toMatchObject({ status: 401, json: { error: 'unauthorized' } });
    expect((await call(collector, url, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await call(collector, url, { headers: { Authorization: 'Bearer consumer-token' } })).status).toBe(200);
  });
});

describe("HMAC: the key is the stream's the events are in", () => {
  const authKeys = { web: 'public-page-key', server: 'server-secret' };

  it("a page's public key cannot sign events of another stream: 400 wrong_stream", async () => {
    const collector = await start({ authKeys });
    const body = batchBody([event({ stream: 'server', name: 'refund' })]);
    const reply = await post(collector, body, { query: { stream: 'web', sig: signBody('public-page-key', Buffer.from(body)) } });
    expect(reply).toMatchObject({ status: 400, json: { error: 'wrong_stream' } });
    expect(collector.events()).toEqual([]);
  });

  it('one foreign event spoils the whole batch', async () => {
    const collector = await start({ authKeys });
    const body = batchBody([event({ stream: 'web' }), event(), event({ stream: 'server' })]);
    const reply = await post(collector, body, { query: { stream: 'web', sig: signBody('public-page-key', Buffer.from(body)) } });
    expect(reply).toMatchObject({ status: 400, json: { error: 'wrong_stream', message: expect.stringMatching(/events\[2\]/) } });
    expect(collector.events()).toEqual([]);
  });

  it('an unsigned request naming no stream cannot carry events of a keyed stream', async () => {
    const collector = await start({ authKeys });
    const reply = await post(collector, batchBody([event({ stream: 'server' })]));
    expect(reply).toMatchObject({ status: 400, json: { error: 'wrong_stream' } });
  });

  it("the public key on the server stream's URL: 401", async () => {
    const collector = await start({ authKeys });
    const body = batchBody([event({ stream: 'server' })]);
    const reply = await post(collector, body, { query: { stream: 'server', sig: signBody('public-page-key', Buffer.from(body)) } });
    expect(reply).toMatchObject({ status: 401, json: { error: 'bad_signature' } });
  });

  it('events without a stream take the URL stream, and its key signs them', async () => {
    const collector = await start({ authKeys });
    const body = batchBody([event(), event({ stream: 'server' })]);
    const reply = await post(collector, body, { query: { stream: 'server', sig: signBody('server-secret', Buffer.from(body)) } });
    expect(reply).toMatchObject({ status: 200, json: { accepted: 2 } });
  });
});

describe('nesting depth (wire.ts jsonDepthExceeds, before parsing)', () => {
  it('an event nested 20,000 deep is a 400, and /events and the feed still answer', async () => {
    const collector = await start({ testControls: true });
    await post(collector, batchBody([event({ sourceId: 's' })]));
    const deep = `{"events":[{"id":"deep","name":"n","timestamp":1,"properties":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}]}`;
    expect(await post(collector, deep)).toMatchObject({ status: 400, json: { error: 'too_deep' } });
    // Arrays count as well as objects.
    const deepArray = `{"events":[{"id":"deep2","name":"n","timestamp":1,"properties":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]}`;
    expect(await post(collector, deepArray)).toMatchObject({ status: 400, json: { error: 'too_deep' } });

    expect((await control(collector, '/events')).json.total).toBe(1);
    for (let p = 0; p < 4; p++) expect((await call(collector, `/feed/v1?n=4&cursor${p}=_first`)).status).toBe(200);
  });

  it(`properties ${maxDepth} deep are stored, ${maxDepth + 1} deep are refused`, async () => {
    const collector = await start();
    expect((await post(collector, batchBody([event({ properties: nested(maxDepth) })]))).status).toBe(200);
    expect(await post(collector, batchBody([event({ properties: nested(maxDepth + 1) })]))).toMatchObject({ status: 400, json: { error: 'too_deep' } });
  });

  it('a deep value outside properties counts too', async () => {
    const collector = await start();
    expect((await post(collector, batchBody([event({ extra: nested(maxDepth + 1) })]))).status).toBe(400);
  });

  it('brackets inside strings do not count', async () => {
    const collector = await start();
    expect((await post(collector, batchBody([event({ properties: { text: '{['.repeat(1000) } })]))).status).toBe(200);
  });
});

describe('wire v1 limits from wire.ts', () => {
  it.each([
    ['a name over 256 characters', { name: 'n'.repeat(257) }, /name is longer/],
    ['a sourceId over 256 characters', { sourceId: 's'.repeat(257) }, /sourceId is longer/],
    ['a stream over 128 characters', { stream: 's'.repeat(129) }, /stream is longer/],
    ['a timestamp no Date can hold', { timestamp: 9e15 }, /timestamp/],
  ])('%s is a 400 bad_shape', async (_, fields, message) => {
    const collector = await start();
    const reply = await post(collector, batchBody([event(fields)]), { query: fields.stream ? { stream: fields.stream } : {} });
    // An over-long stream parameter is caught on the URL first.
    expect(reply.status).toBe(400);
    expect(reply.json.message).toMatch(message);
  });

  it('an over-long rid is a 400 (receipts keep rids in memory)', async () => {
    const collector = await start();
    expect(await post(collector, batchBody([event()]), { query: { rid: 'r'.repeat(257) } })).toMatchObject({ status: 400, json: { error: 'bad_parameter' } });
  });
});
