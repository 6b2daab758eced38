import { describe, expect, it } from 'vitest';
import { matchRule, maxRuleTtlMs, mergeRules } from '../../src/rules.js';

const event = { name: 'click', stream: 'ui', sourceId: 'dev-1' };

describe('server drop rules', () => {
  it.each([
    { rule: { name: 'click' }, matches: true },
    { rule: { name: 'view' }, matches: false },
    { rule: { stream: 'ui', sourceId: 'dev-1' }, matches: true },
    { rule: { stream: 'ui', sourceId: 'dev-2' }, matches: false },
    { rule: { name: 'click', stream: 'ui', sourceId: 'dev-1' }, matches: true },
  ])('rule $rule matches: $matches', ({ rule, matches }) => {
    const rules = mergeRules([], { rules: [{ ...rule, ttlMs: 1000 }] }, 0);
    expect(!!matchRule(rules, event, 500)).toBe(matches);
  });

  it('expires on time (injected clock)', () => {
    const rules = mergeRules([], { rules: [{ name: 'click', ttlMs: 1000 }] }, 10_000);
    expect(matchRule(rules, event, 10_999)).toBeDefined();
    expect(matchRule(rules, event, 11_000)).toBeUndefined();
    expect(mergeRules(rules, undefined, 11_000)).toEqual([]); // pruned
  });

  it.each([
    { name: 'no ttl', reply: { rules: [{ name: 'click' }] } },
    { name: 'negative ttl', reply: { rules: [{ name: 'click', ttlMs: -5 }] } },
    { name: 'matches everything', reply: { rules: [{ ttlMs: 1000 }] } },
    { name: 'not an array', reply: { rules: 'drop all' } },
    { name: 'null rule', reply: { rules: [null] } },
    { name: 'no reply', reply: undefined },
  ])('ignores malformed rules: $name', ({ reply }) => {
    expect(mergeRules([], reply, 0)).toEqual([]);
  });

  it('caps the TTL at a day and replaces an identical rule', () => {
    let rules = mergeRules([], { rules: [{ name: 'click', ttlMs: 1e12 }] }, 0);
    expect(rules[0]!.until).toBe(maxRuleTtlMs);
    rules = mergeRules(rules, { rules: [{ name: 'click', ttlMs: 5 }] }, 0);
    expect(rules).toEqual([{ name: 'click', until: 5 }]);
  });
});
