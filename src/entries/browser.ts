// The entry of dist/outbox.iife.js, for <script> tags: the public API as `window.Outbox`, plus
// the auto-start. A script tag with `data-endpoint` creates the default tracker at
// `window.outbox` from its `data-*` attributes, then replays the calls the snippet queued before
// the bundle arrived, in order, with their original timestamps and ids (docs/script-tag.md).
import { createTracker, defaults, type Tracker } from '../index.js';
import type { TrackerOptions } from '../options.js';
import type { TrackOptions } from '../event.js';

export * from '../index.js';

/**
 * A call queued before the bundle loaded. The snippet's `outbox.track(...)` records
 * `[method, args, Date.now(), id]`; `outbox.push([method, ...args])` is the plain form (its
 * timestamp is the replay time).
 */
export type QueuedCall = [method: string, ...rest: unknown[]];

/** `window.outbox` once the bundle has loaded: the tracker, plus `push` for queued-style calls. */
export interface ScriptTracker extends Tracker {
  push(...calls: QueuedCall[]): number;
}

autoStart();

function autoStart(): void {
  if (typeof window === 'undefined' || typeof document === 'undefined') return;
  const host = window as unknown as { outbox?: unknown };
  const queue = host.outbox as { track?: unknown } | undefined;
  // Already running (the bundle loaded twice). Anything else that is not the snippet's array,
  // such as an element with id="outbox" (the DOM's named access), is shadowed by the tracker.
  if (!Array.isArray(queue) && typeof queue?.track === 'function') return;
  const calls = (Array.isArray(queue) ? queue : []) as unknown[];
  const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[data-endpoint]');
  const init = calls.find((call): call is ['init', TrackerOptions] => Array.isArray(call) && call[0] === 'init');
  const options = { ...optionsFrom(script?.dataset ?? {}), ...init?.[1] } as TrackerOptions;
  if (!options.endpoint) {
    if (calls.length) console.warn('[outbox] calls queued, no tracker: set data-endpoint or queue ["init", { endpoint }]');
    return;
  }
  let tracker: Tracker;
  try {
    tracker = createTracker(options);
  } catch (error) {
    // The snippet stays in place: its own pagehide beacon still covers what it queued.
    console.error(error);
    return;
  }
  const run = (call: unknown) => replay(tracker, call);
  for (const call of calls) run(call);
  const api: ScriptTracker = {
    ...tracker,
    push: (...pushed) => (pushed.forEach(run), 0),
  };
  host.outbox = api;
}

// `data-flush-interval-ms="2000"` → `{ flushIntervalMs: 2000 }`; numbers and booleans are read by
// the type of the option's default, and `data-storage="memory"` keeps events in memory only.
function optionsFrom(data: DOMStringMap): Partial<TrackerOptions> {
  const options: Record<string, unknown> = {};
  const known = defaults as Record<string, unknown>;
  // A dataset's values are all strings (DOMStringMap's type allows undefined for absent keys).
  for (const [key, value] of Object.entries(data) as [string, string][]) {
    const kind = key === 'retry' ? 'number' : typeof known[key];
    if (key === 'endpoint' || key === 'sourceId' || kind === 'string') options[key] = value;
    else if (key === 'storage') options.storage = value === 'memory' || value === 'false' ? false : undefined;
    else if (kind === 'boolean') options[key] = value !== 'false';
    else if (kind === 'number' && value.trim() && isFinite(+value)) options[key] = +value;
    else {
      const why = kind === 'number' ? 'not a number' : key in known ? 'set it with ["init", {...}]' : 'not an option';
      console.warn(`[outbox] ignoring data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${value}": ${why}`);
    }
  }
  return options;
}

function replay(tracker: Tracker, call: unknown): void {
  if (!Array.isArray(call) || typeof call[0] !== 'string' || call[0] === 'init') return;
  const [method, ...rest] = call as QueuedCall;
  // The snippet's form: [method, args, timestamp, id].
  const snippet = Array.isArray(rest[0]);
  const args = (snippet ? rest[0] : rest) as unknown[];
  if (method === 'track' && snippet) {
    const [name, properties, own] = args as [string, Record<string, unknown> | undefined, TrackOptions | undefined];
    return tracker.track(name, properties, { timestamp: rest[1] as number, id: rest[2] as string, ...own });
  }
  const fn = (tracker as unknown as Record<string, unknown>)[method];
  if (typeof fn === 'function') void Promise.resolve(fn(...args)).catch(console.error);
  else console.warn(`[outbox] ignoring queued call "${method}": not a tracker method`);
}
