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
 * rules are ignored, TTLs are capped, expired rules are pruned, and a rule that matches everything
 * (no field set) is refused.
 */
export function mergeRules(active: readonly ActiveRule[], reply: unknown, now: number): ActiveRule[] {
  const merged = active.filter((rule) => rule.until > now);
  const incoming = (reply as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(incoming)) return merged;
  for (const candidate of incoming as Partial<DropRule>[]) {
    if (!candidate || typeof candidate !== 'object' || !(Number(candidate.ttlMs) > 0)) continue;
    const rule: ActiveRule = { until: now + Math.min(Number(candidate.ttlMs), maxRuleTtlMs) };
    for (const field of ['name', 'stream', 'sourceId'] as const) {
      if (typeof candidate[field] === 'string') rule[field] = candidate[field];
    }
    if (rule.name === undefined && rule.stream === undefined && rule.sourceId === undefined) continue;
    const same = merged.findIndex((r) => r.name === rule.name && r.stream === rule.stream && r.sourceId === rule.sourceId);
    if (same >= 0) merged[same] = rule;
    else merged.push(rule);
  }
  return merged;
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
