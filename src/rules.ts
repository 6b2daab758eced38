import { maxNameLength, maxRules, maxSourceIdLength, maxStreamLength } from './wire.js';

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
  const merged = active.filter((rule) => rule.until > now);
  const incoming = (reply as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(incoming)) return merged;
  // Only the first maxRules of a reply are even looked at: 40,000 rules must cost nothing.
  for (const candidate of incoming.slice(0, maxRules) as unknown[]) {
    const ttlMs = (candidate as { ttlMs?: unknown } | null)?.ttlMs;
    if (typeof ttlMs !== 'number' || !(ttlMs > 0)) continue;
    const rule = ruleFields(candidate, now + Math.min(ttlMs, maxRuleTtlMs));
    if (!rule) continue;
    const same = merged.findIndex((r) => r.name === rule.name && r.stream === rule.stream && r.sourceId === rule.sourceId);
    if (same >= 0) merged.splice(same, 1);
    merged.push(rule);
  }
  return merged.length > maxRules ? merged.slice(merged.length - maxRules) : merged;
}

/**
 * Rules read back from storage, which is untrusted: each must have a finite `until` and valid
 * fields; expiries are capped at `now + maxRuleTtlMs` (a clock that went back, or a forged
 * `1e300`, cannot silence the tracker for longer than a reply could). Pure. `rejected` counts
 * what was refused, so the caller can report it once.
 */
export function restoreRules(stored: unknown, now: number): { rules: ActiveRule[]; rejected: number } {
  if (stored === undefined) return { rules: [], rejected: 0 };
  if (!Array.isArray(stored)) return { rules: [], rejected: 1 };
  const rules: ActiveRule[] = [];
  let rejected = 0;
  for (const candidate of stored.slice(0, maxRules) as unknown[]) {
    const until = (candidate as { until?: unknown } | null)?.until;
    const rule = typeof until === 'number' && Number.isFinite(until) ? ruleFields(candidate, Math.min(until, now + maxRuleTtlMs)) : undefined;
    if (rule) {
      if (rule.until > now) rules.push(rule);
    } else rejected++;
  }
  return { rules, rejected: rejected + Math.max(0, stored.length - maxRules) };
}

const fieldLimits = { name: maxNameLength, stream: maxStreamLength, sourceId: maxSourceIdLength } as const;

// The fields of a candidate rule, or undefined when one is malformed or none is set. An empty
// string is refused: it would match every event that lacks the field.
function ruleFields(candidate: unknown, until: number): ActiveRule | undefined {
  if (!candidate || typeof candidate !== 'object') return undefined;
  const rule: ActiveRule = { until };
  let any = false;
  for (const field of ['name', 'stream', 'sourceId'] as const) {
    const value = (candidate as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !value || value.length > fieldLimits[field]) return undefined;
    rule[field] = value;
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
  for (const rule of rules) {
    if (rule.until <= now) continue;
    if (rule.name !== undefined && rule.name !== event.name) continue;
    if (rule.stream !== undefined && rule.stream !== event.stream) continue;
    if (rule.sourceId !== undefined && rule.sourceId !== event.sourceId) continue;
    return rule;
  }
  return undefined;
}
