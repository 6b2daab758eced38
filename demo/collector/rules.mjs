/**
 * Server drop rules, after Ramen's blacklist: the collector tells the client which events it
 * no longer wants, and the client drops matching events locally until `ttlMs` has passed.
 *
 * A rule matches an event when every field the rule sets equals the event's field (AND); an
 * event matches when any rule matches (OR). `ttlMs` is advice for the client: the collector
 * keeps applying a rule until its rules are replaced.
 *
 * @typedef {{ name?: string, stream?: string, sourceId?: string, ttlMs: number }} DropRule
 */

const MATCH_FIELDS = /** @type {const} */ (['name', 'stream', 'sourceId']);
const ALLOWED_FIELDS = new Set([...MATCH_FIELDS, 'ttlMs']);

/**
 * Validates rules given by code or over HTTP; throws a TypeError naming the bad value.
 * @param {unknown} input
 * @returns {DropRule[]}
 */
export function normalizeRules(input) {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new TypeError('[collector] rules must be an array');
  return input.map((rule, index) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      throw new TypeError(`[collector] rules[${index}] must be an object`);
    }
    for (const key of Object.keys(rule)) {
      if (!ALLOWED_FIELDS.has(key)) throw new TypeError(`[collector] rules[${index}] has unknown field "${key}"`);
    }
    for (const field of MATCH_FIELDS) {
      if (rule[field] !== undefined && typeof rule[field] !== 'string') {
        throw new TypeError(`[collector] rules[${index}].${field} must be a string`);
      }
    }
    if (typeof rule.ttlMs !== 'number' || !Number.isFinite(rule.ttlMs) || rule.ttlMs < 0) {
      throw new TypeError(`[collector] rules[${index}].ttlMs must be a non-negative number`);
    }
    // A frozen copy: the reply echoes these objects, so later edits by the caller must not leak in.
    return Object.freeze({ ...rule });
  });
}

/**
 * The first rule matching `event`, if any. An event without its own `stream` takes the
 * request's `stream` query parameter, so a rule can target a whole stream either way.
 *
 * @param {readonly DropRule[]} rules
 * @param {{ name: string, stream?: string, sourceId?: string }} event
 * @param {string | undefined} requestStream
 * @returns {DropRule | undefined}
 */
export function matchRule(rules, event, requestStream) {
  const stream = event.stream ?? requestStream;
  return rules.find(
    (rule) =>
      (rule.name === undefined || rule.name === event.name) &&
      (rule.stream === undefined || rule.stream === stream) &&
      (rule.sourceId === undefined || rule.sourceId === event.sourceId),
  );
}
