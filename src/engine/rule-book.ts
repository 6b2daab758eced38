import { matchRule, mergeRules, type ActiveRule } from '../rules.js';
import type { Outbox } from '../outbox.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { Delivery } from './delivery.js';

/** The rule book (see {@link createRuleBook}): the collector's drop rules in force, and their effects. */
export interface RuleBook {
  /** Every rule known, expired ones included (they expire by time, not by deletion). */
  readonly allRules: readonly ActiveRule[];
  /** Whether an event matches a rule at `now()` (read only while rules are known: track()'s path). */
  ruleMatches(entry: Entry, now: () => number): boolean;
  /** Takes in the rules of a collector's reply: saved, and queued events they match dropped. */
  applyReply(reply: unknown, now: number): void;
  /** Takes in the rules stored by an earlier page, and drops what they match. */
  restoreRules(stored: readonly ActiveRule[], now: number): void;
}

/** Creates an empty {@link RuleBook} applying to `model`, dropping through `delivery`. */
export function createRuleBook(queueModel: QueueModel, queueDelivery: () => Delivery, outbox: () => Outbox | undefined): RuleBook {
  let rules: ActiveRule[] = [];

  function dropRuled(now: number): void {
    // With no rule nothing matches, and dropEvents ignores an empty list: no early exit needed.
    const matching = [...queueModel.deque.values()].filter((e) => !queueModel.isFlying(e) && matchRule(rules, e, now));
    queueDelivery().dropEvents(matching, 'ruled', `${matching.length} queued events hit a drop rule`);
  }

  return {
    get allRules() {
      return rules;
    },
    ruleMatches: (entry, now) => rules.length > 0 && !!matchRule(rules, entry, now()),
    applyReply(reply, now) {
      if (!(reply as { rules?: unknown } | undefined)?.rules) return;
      rules = mergeRules(rules, reply, now);
      outbox()?.saveRules(rules);
      dropRuled(now);
    },
    restoreRules(stored, now) {
      rules = mergeRules(stored, undefined, now);
      // Events tracked before the saved rules were read (a page's first events) obey them too.
      dropRuled(now);
    },
  };
}
