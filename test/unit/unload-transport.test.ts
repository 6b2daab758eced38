// The unload path's choice of sender, with the senders injected (real transport, real request
// builder; only the browser APIs are stand-ins, since Node has no fetchLater or sendBeacon).
import { describe, expect, it } from 'vitest';
import { createUnloadTransport } from '../../src/transport/beacon.js';
import type { FetchLater, UnloadSenders } from '../../src/transport/unload-senders.js';

const options = { endpoint: 'https://c.example/v1/batch', streams: {}, maxBatchEvents: 100, maxBatchBytes: 65_536, now: () => 1 };
const events = Array.from({ length: 3 }, (_, i) => {
  const json = `{"id":"e${i}","name":"n","timestamp":1}`;
  return { id: `e${i}`, name: 'n', sourceId: '', stream: '', json, bytes: json.length, seq: i };
});

/** Senders that log each call; `has` says which APIs exist, `beaconAnswers` what successive beacons return. */
function senders(has: { fetchLater?: boolean; keepalive?: boolean; beacon?: boolean }, beaconAnswers: boolean[] = [true]) {
  const calls: string[] = [];
  const fetchLater: FetchLater = (url, init) => (calls.push(`fetchLater ${init.activateAfter}`), { activated: init.activateAfter === 0 });
  const injected: UnloadSenders = {
    findFetchLater: () => (has.fetchLater ? fetchLater : undefined),
    postKeepalive: () => (has.keepalive ? (calls.push('keepalive'), Promise.resolve(new Response(null, { status: 204 }))) : undefined),
    queueBeacon: (url, body) => (has.beacon ? (calls.push(`beacon ${body.length}`), beaconAnswers.shift() ?? false) : undefined),
  };
  return { calls, injected };
}

describe('createUnloadTransport with injected senders', () => {
  const cases: [string, Parameters<typeof senders>[0], boolean[], string | undefined, number][] = [
    ['fetchLater first, activated at once', { fetchLater: true, keepalive: true, beacon: true }, [], 'fetchLater', 1],
    ['then a keepalive fetch', { keepalive: true, beacon: true }, [], 'keepalive', 1],
    ['then a beacon', { beacon: true }, [true], 'beacon', 1],
    ['a refused beacon: one smaller try', { beacon: true }, [false, true], 'beacon', 2],
    ['both beacons refused: nothing left', { beacon: true }, [false, false], undefined, 2],
    ['no API at all: nothing left', {}, [], undefined, 0],
  ];
  it.each(cases)('%s', async (_name, has, answers, path, calls) => {
    const { calls: log, injected } = senders(has, answers);
    const sent = createUnloadTransport(options, injected).send(events);
    expect(sent?.path).toBe(path);
    expect(log.length).toBe(calls);
    if (sent) expect(sent.events.length).toBeGreaterThan(0);
    if (sent?.reply) expect(await sent.reply).toBe(true);
  });

  it('a sender that throws counts as refused, never as a crash', () => {
    const throwing: UnloadSenders = {
      findFetchLater: () => undefined,
      postKeepalive: () => {
        throw new TypeError('bad URL');
      },
      queueBeacon: () => {
        throw new TypeError('bad URL');
      },
    };
    expect(createUnloadTransport(options, throwing).send(events)).toBeUndefined();
  });

  it('defer keeps one deferred request and does not encode an unchanged cut again', () => {
    const { calls, injected } = senders({ fetchLater: true });
    const transport = createUnloadTransport(options, injected);
    expect(transport.defer(events)).toBe(true);
    expect(transport.defer(events)).toBe(true);
    expect(calls).toEqual(['fetchLater undefined']);
  });
});
