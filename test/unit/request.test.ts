import { describe, expect, it } from 'vitest';
import { requestUrl, type RequestTarget } from '../../src/transport/request.js';
import { encodeUnloadRequest } from '../../src/transport/unload-request.js';
import { prepareRequest } from '../../src/transport/http.js';
import { resolveOptions } from '../../src/options.js';

// A signer whose signature names the body's length and the signer, so the table shows which one signed what.
const signer = (name: string) => (body: Uint8Array) => `${name}${body.length}`;
const body = new Uint8Array(7);
const base: RequestTarget = { endpoint: 'https://c.example/v1/batch', streams: {} };
const withStreams: RequestTarget = {
  endpoint: 'https://c.example/v1/batch',
  signer: signer('main'),
  streams: { ui: { endpoint: 'https://ui.example/in?key=k' }, billing: { signer: signer('bill') } },
};

describe('requestUrl, the one request builder', () => {
  const cases: [string, RequestTarget, string, boolean | undefined, boolean | undefined, string][] = [
    ['plain', base, '', undefined, undefined, 'https://c.example/v1/batch?rid=r1'],
    ['gzip flag', base, '', true, undefined, 'https://c.example/v1/batch?rid=r1&encoding=gzip'],
    ['test flag', base, '', undefined, true, 'https://c.example/v1/batch?rid=r1&test=1'],
    ['a stream without options: the tracker endpoint, the stream named', base, 'a b', undefined, undefined, 'https://c.example/v1/batch?rid=r1&stream=a%20b'],
    ['the tracker signer signs the body', withStreams, '', undefined, undefined, 'https://c.example/v1/batch?rid=r1&sig=main7'],
    ['a stream endpoint with a query: & joins, the tracker signer still signs', withStreams, 'ui', true, undefined, 'https://ui.example/in?key=k&rid=r1&encoding=gzip&stream=ui&sig=main7'],
    ['a stream signer replaces the tracker one', withStreams, 'billing', undefined, true, 'https://c.example/v1/batch?rid=r1&stream=billing&sig=bill7&test=1'],
    ['a stream not listed uses the tracker endpoint and signer', withStreams, 'other', undefined, undefined, 'https://c.example/v1/batch?rid=r1&stream=other&sig=main7'],
  ];
  it.each(cases)('%s', (_name, target, stream, gzip, test, url) => {
    expect(requestUrl(target, 'r1', stream, body, gzip, test)).toBe(url);
  });

  it('encodes the request id', () => {
    expect(requestUrl(base, 'a&b=c', '', body)).toBe('https://c.example/v1/batch?rid=a%26b%3Dc');
  });
});

describe('the HTTP transport and the unload path build the same request through it', () => {
  const json = '{"id":"e1","name":"n","timestamp":1}';
  const event = { id: 'e1', name: 'n', sourceId: '', stream: 'billing', json, bytes: json.length, seq: 0 };

  it('same body, same signature, same URL but for the request id', async () => {
    const options = { ...resolveOptions({ ...withStreams }), now: () => 5, compression: 'none' as const };
    const http = await prepareRequest(options, { rid: 'r1', stream: 'billing', events: [event] });
    const unload = encodeUnloadRequest({ ...withStreams, maxBatchEvents: 100, maxBatchBytes: 65_536, now: () => 5 }, [event], 65_536, false)!;
    expect(new TextDecoder().decode(unload.body)).toBe(new TextDecoder().decode(http.body));
    expect(unload.url.replace(/rid=\w+/, 'rid=R')).toBe(http.url.replace('rid=r1', 'rid=R'));
    expect(http.url).toContain(`&sig=bill${http.body.length}`);
  });
});
