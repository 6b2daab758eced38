import { describe, expect, it } from 'vitest';
import { matchRule, normalizeRules } from '../../demo/collector/rules.mjs';
import { batchBody, control, event, post, start } from './harness.mjs';

describe('matchRule', () => {
  const click = { id: '1', name: 'click', timestamp: 1, sourceId: 'dev-1', stream: 'ui' };
  it.each([
    ['a rule on the name', [{ name: 'click', ttlMs: 1 }], click, undefined, 0],
    ['a rule on another name', [{ name: 'view', ttlMs: 1 }], click, undefined, -1],
    ['all fields equal', [{ name: 'click', sourceId: 'dev-1', stream: 'ui', ttlMs: 1 }], click, undefined, 0],
    ['one field differs', [{ name: 'click', sourceId: 'dev-2', ttlMs: 1 }], click, undefined, -1],
    ['the second rule', [{ name: 'view', ttlMs: 1 }, { sourceId: 'dev-1', ttlMs: 1 }], click, undefined, 1],
    ['a rule without fields', [{ ttlMs: 1 }], click, undefined, 0],
    ["the request's stream", [{ stream: 'batch' }], { ...click, stream: undefined }, 'batch', 0],
    ["the event's own stream first", [{ stream: 'batch' }], click, 'batch', -1],
    ['no sourceId on the event', [{ sourceId: 'dev-1', ttlMs: 1 }], { ...click, sourceId: undefined }, undefined, -1],
  ])('%s', (_, rules, ev, requestStream, index) => {
    expect(matchRule(rules, ev, requestStream)).toBe(index === -1 ? undefined : rules[index]);
  });

  it.each([
    [{}, /must be an array/],
    [[{ name: 'x' }], /ttlMs/],
    [[{ name: 1, ttlMs: 1 }], /rules\[0\]\.name/],
    [[{ category: 'x', ttlMs: 1 }], /unknown field "category"/],
  ])('normalizeRules refuses %j', (rules, message) => {
    expect(() => normalizeRules(rules)).toThrow(message);
  });
});

describe('drop rules over HTTP', () => {
  it('drops matching events, counts them as ruled and replies with the matching rules', async () => {
    const rules = [
      { name: 'debug', ttlMs: 60_000 },
      { sourceId: 'noisy', ttlMs: 5_000 },
      { name: 'never-sent', ttlMs: 1 },
    ];
    const collector = await start({ rules });
    const kept = event({ name: 'signup' });
    const dropped = [event({ name: 'debug' }), event({ sourceId: 'noisy' }), event({ name: 'debug' })];
    const reply = await post(collector, batchBody([dropped[0], kept, dropped[1], dropped[2]]));

    expect(reply.status).toBe(200);
    // wire.ts BatchReply: `ruled` lists the ids dropped, so the tracker accounts without re-matching.
    expect(reply.json).toEqual({ accepted: 1, duplicates: 0, ruled: dropped.map((e) => e.id), rules: [rules[0], rules[1]] });
    expect(collector.events()).toEqual([kept]);
    expect(collector.stats()).toMatchObject({ accepted: 1, ruled: 3 });
  });

  it('a duplicate of an event stored before the rule reads as a duplicate', async () => {
    const collector = await start();
    const a = event({ name: 'debug' });
    await post(collector, batchBody([a]));
    collector.setRules([{ name: 'debug', ttlMs: 1000 }]);
    expect((await post(collector, batchBody([a]))).json).toEqual({ accepted: 0, duplicates: 1 });
  });

  it('a ruled event is stored once the rule is gone', async () => {
    const collector = await start({ rules: [{ name: 'debug', ttlMs: 1000 }] });
    const a = event({ name: 'debug' });
    await post(collector, batchBody([a]));
    collector.setRules([]);
    expect((await post(collector, batchBody([a]))).json).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('is set with POST /rules and read with GET /rules; bad rules are a 400', async () => {
    const collector = await start({ testControls: true });
    const rules = [{ stream: 'audit', ttlMs: 1000 }];
    expect(await control(collector, '/rules', { method: 'POST', body: JSON.stringify(rules) })).toMatchObject({
      status: 200,
      json: rules,
    });
    expect((await control(collector, '/rules')).json).toEqual(rules);
    expect((await post(collector, batchBody([event()]), { query: { stream: 'audit' } })).json.ruled).toHaveLength(1);

    const bad = await control(collector, '/rules', { method: 'POST', body: JSON.stringify([{ name: 'x' }]) });
    expect(bad).toMatchObject({ status: 400, json: { error: 'bad_shape' } });
    expect(collector.rules()).toEqual(rules);
  });
});
