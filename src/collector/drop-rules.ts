import { maxRules, type WireRule } from '../wire.js';

/**
 * Checks drop rules given by configuration; throws a TypeError naming the bad value (at start-up,
 * never on a request). A rule matches an event when every field it sets equals the event's.
 */
export function normalizeRules(input: unknown): WireRule[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new TypeError('[outbox] collector rules must be an array');
  if (input.length > maxRules) throw new TypeError(`[outbox] collector rules: at most ${maxRules}, got ${input.length}`);
  return input.map((rule: unknown, index) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      throw new TypeError(`[outbox] collector rules[${index}] must be an object`);
    }
    const r = rule as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!['name', 'stream', 'sourceId', 'ttlMs'].includes(key)) throw new TypeError(`[outbox] collector rules[${index}] has unknown field "${key}"`);
    }
    for (const field of ['name', 'stream', 'sourceId'] as const) {
      if (r[field] !== undefined && typeof r[field] !== 'string') throw new TypeError(`[outbox] collector rules[${index}].${field} must be a string`);
    }
    if (typeof r.ttlMs !== 'number' || !Number.isFinite(r.ttlMs) || r.ttlMs < 0) {
      throw new TypeError(`[outbox] collector rules[${index}].ttlMs must be a non-negative number`);
    }
    return Object.freeze({ ...(r as unknown as WireRule) });
  });
}

/** The index of the first rule matching the event (in its effective stream), or -1. */
export function matchRule(rules: readonly WireRule[], event: { name: string; stream?: string; sourceId?: string }): number {
  return rules.findIndex(
    (rule) =>
      (rule.name === undefined || rule.name === event.name) &&
      (rule.stream === undefined || rule.stream === event.stream) &&
      (rule.sourceId === undefined || rule.sourceId === event.sourceId),
  );
}
