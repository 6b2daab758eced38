// How a tracker must treat a failing collector, checked on the network's log of one tab: while
// the collector fails, one request in flight at a time (a probe), and none before the pause a
// `Retry-After` asked for, unless the wall clock jumped in between (the pause follows it).
import type { RequestLog } from './sim-network.js';

/** Longest `Retry-After` the check holds a tracker to (a longer one is capped by `maxRetryAfterMs`). */
const checkedRetryAfterMs = 120_000;

/** The protocol violations in `marks` (starts and ends of `owner`'s requests, in the order they happened). */
export function protocolViolations(owner: string, marks: readonly { kind: 'start' | 'end'; entry: RequestLog }[]): string[] {
  const violations: string[] = [];
  let failingSince: RequestLog | undefined;
  let probes = 0;
  for (const mark of marks) {
    if (mark.entry.owner !== owner) continue;
    if (mark.kind === 'end') {
      // An answer from the collector (2xx, 4xx) ends the failure; a 5xx, 429, 408, 3xx, timeout or reset starts one.
      if (mark.entry.outcome === 'ok') failingSince = undefined;
      else if (mark.entry.outcome === 'retry') {
        failingSince = mark.entry;
        probes = 0;
      }
      continue;
    }
    if (!failingSince) continue;
    const retryAfter = failingSince.retryAfterMs;
    if (retryAfter !== undefined && retryAfter <= checkedRetryAfterMs && failingSince.jumpsAtEnd === mark.entry.jumpsAtStart && mark.entry.start < failingSince.end! + retryAfter) {
      violations.push(`${owner}: a request ${mark.entry.start - failingSince.end!} ms after a reply asking to retry after ${retryAfter} ms`);
    }
    if (++probes > 1) violations.push(`${owner}: ${probes} requests started while the collector was failing and before any answer (one probe at a time)`);
  }
  return violations;
}
