import { maxNameLength, maxRules, maxSourceIdLength, maxStreamLength, stringProblem } from './wire.js';

/**
 * A server drop rule (Ramen's "blacklist"): stop sending events that match, for `ttlMs`. A rule
 * matches an event when every field it sets equals the event's; fields it omits match anything.
 */
export interface DropRule {
  name?: string;
  stream?: string;
  sourceId?: string;
  ttlMs: number;
}

/** A rule with its expiry time, as kept by the tracker (and persisted with the outbox). */
export interface ActiveRule {
  name?: string;
  stream?: string;
  sourceId?: string;
  until: number;
}

// The fields a rule may match on.
const ruleKeys = ['name', 'stream', 'sourceId'] as const;

/** Longest TTL honoured: a bad or hostile reply cannot silence a tracker for more than a day (Ramen's cap). */
export const maxRuleTtlMs = 24 * 60 * 60 * 1000;

/**
 * Merges rules from a collector reply (`{"rules": [...]}`) into the active ones. Pure: malformed
 * rules are ignored (a field that is set must be a non-empty string within the wire limits, and
 * `ttlMs` a positive number), TTLs are capped, expired rules are pruned, a rule that matches
 * everything (no field set) is refused, and at most wire.ts `maxRules` are kept (the newest), so
 * matching stays cheap on `track()`'s path.
 */
export function mergeRules(active: readonly ActiveRule[], reply: unknown, now: number): ActiveRule[] {
  const incoming = (reply as { rules?: unknown } | null)?.rules;
  // Only the first maxRules of a reply are even looked at: 40,000 rules must cost nothing.
  const parsed = (Array.isArray(incoming) ? incoming.slice(0, maxRules) : []).map((candidate: { ttlMs?: unknown } | null) => {
    const ttlMs = candidate?.ttlMs;
    return typeof ttlMs === 'number' && ttlMs > 0 ? ruleFields(candidate, now + Math.min(ttlMs, maxRuleTtlMs)) : undefined;
  });
  return keep([...active, ...parsed], now);
}

/**
 * Rules read back from storage, which is untrusted: each must have a finite `until` and valid
 * fields; expiries are capped at `now + maxRuleTtlMs` (a clock that went back, or a forged
 * `1e300`, cannot silence the tracker for longer than a reply could). Pure. Answers `[rules, rejected]`:
 * `rejected` counts what was refused, so the caller can report it once.
 */
export function restoreRules(stored: unknown, now: number): [rules: ActiveRule[], rejected: number] {
  const parsed = (stored === undefined ? [] : Array.isArray(stored) ? stored : [0]).map((candidate: { until?: unknown } | null) => {
    const until = candidate?.until;
    return typeof until === 'number' && until - until === 0 ? ruleFields(candidate, Math.min(until, now + maxRuleTtlMs)) : undefined;
  });
  return [keep(parsed, now), parsed.filter((rule) => !rule).length];
}

// Unexpired rules, a later one replacing an earlier one with the same fields, the newest maxRules.
function keep(rules: readonly (ActiveRule | undefined)[], now: number): ActiveRule[] {
  const byFields = new Map<string, ActiveRule>();
  for (const rule of rules) {
    if (!rule || !(rule.until > now)) continue;
    const key = JSON.stringify(ruleKeys.map((field) => rule[field]));
    byFields.delete(key);
    byFields.set(key, rule);
  }
  return [...byFields.values()].slice(-maxRules);
}

// The fields of a candidate rule, or undefined when one is malformed or none is set. An empty
// string is refused: it would match every event that lacks the field.
function ruleFields(candidate: unknown, until: number): ActiveRule | undefined {
  const rule: ActiveRule = { until };
  let any = false;
  for (const field of ruleKeys) {
    const max = field === 'stream' ? maxStreamLength : field === 'name' ? maxNameLength : maxSourceIdLength;
    const value = (candidate as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (stringProblem(value, field, max)) return undefined;
    rule[field] = value as string;
    any = true;
  }
  return any ? rule : undefined;
}

/** The first unexpired rule matching the event, if any. Pure. */
export function matchRule(
  rules: readonly ActiveRule[],
  event: { name: string; stream: string; sourceId: string },
  now: number,
): ActiveRule | undefined {
  return rules.find((rule) => rule.until > now && ruleKeys.every((field) => rule[field] === undefined || rule[field] === event[field]));
}
