// The generators of the simulation: a history is a tracker configuration, a network script, a
// storage fault profile and a list of steps. Arbitraries produce plain descriptions (tags and
// numbers), so a failing history prints readably and shrinks; `materialize*` turns a tag into the
// hostile value (a Proxy, a cycle, a throwing getter) when the step runs.
import fc from 'fast-check';
import { ruledName, type Reply, type RulesVariant } from './sim-network.js';

/** Properties passed to `track()`: how each kind must be treated by wire format v1. */
export const propKinds = {
  none: 'valid',
  flat: 'valid',
  nested: 'valid',
  unicode: 'valid',
  bigint: 'valid',
  big: 'too_large',
  cycle: 'invalid',
  throwingGetter: 'invalid',
  throwsProxy: 'invalid',
  proxyTraps: 'invalid',
  date: 'invalid',
  url: 'invalid',
  stringObject: 'invalid',
  toJSONString: 'invalid',
  deep: 'invalid',
  array: 'invalid',
  null: 'invalid',
  number: 'invalid',
  function: 'invalid',
} as const;
export type PropKind = keyof typeof propKinds;

export const nameKinds = { view: 'valid', click: 'valid', ruled: 'valid', paid: 'valid', empty: 'invalid', long: 'invalid', number: 'invalid', proxy: 'invalid' } as const;
export type NameKind = keyof typeof nameKinds;
export const idKinds = { unique: 'valid', none: 'valid', dup: 'valid', empty: 'invalid', long: 'invalid', number: 'invalid' } as const;
export type IdKind = keyof typeof idKinds;
export const sourceKinds = { none: 'valid', one: 'valid', many: 'valid', long: 'invalid', number: 'invalid' } as const;
export type SourceKind = keyof typeof sourceKinds;
export const streamKinds = { none: 'valid', ui: 'valid', long: 'invalid', number: 'invalid' } as const;
export type StreamKind = keyof typeof streamKinds;
export const timestampKinds = { now: 'valid', past: 'valid', nan: 'invalid', huge: 'invalid', string: 'invalid' } as const;
export type TimestampKind = keyof typeof timestampKinds;

/** One event as a history describes it. */
export interface EventSpec {
  name: NameKind;
  props: PropKind;
  id: IdKind;
  source: SourceKind;
  stream: StreamKind;
  ts: TimestampKind;
  /** Picks among sources / earlier ids. */
  pick: number;
}

/** What may be written into storage behind the tracker's back. */
export type Corruption =
  | 'chunkGarbage'
  | 'chunkNotArray'
  | 'recordMissingTimestamp'
  | 'recordBadProperties'
  | 'leaseMalformed'
  | 'leaseFuture'
  | 'rulesForever'
  | 'rulesGarbage';

/** One step of a history. `tab` picks among the live tabs (modulo their number). */
export type Step =
  | { t: 'track'; tab: number; event: EventSpec }
  | { t: 'burst'; tab: number; count: number; sources: number }
  | { t: 'send'; tab: number; events: EventSpec[] }
  | { t: 'flush'; tab: number; timeoutMs: number }
  | { t: 'close'; tab: number }
  | { t: 'advance'; ms: number }
  | { t: 'jump'; ms: number }
  | { t: 'crash'; tab: number; reload: boolean }
  | { t: 'open' }
  | { t: 'corrupt'; what: Corruption; pick: number }
  | { t: 'faults'; failRate: number; loseRate: number };

/** The tracker options of a history (shared by its tabs), some out of range on purpose. */
export interface SimConfig {
  storage: boolean;
  tabs: number;
  maxBatchEvents: number;
  maxQueueEvents: number;
  minBatchEvents: number;
  flushIntervalMs: number;
  timeoutMs: number;
  retry: { limit: number; baseMs: number; maxDelayMs: number };
  concurrency: number;
  compression: 'gzip' | 'none';
  /** onError calls track() for every overflow it hears of (the re-entrancy hole). */
  reentrant: boolean;
  latencyMs: number;
  storageLatencyMs: number;
  /** Whether the storage adapter offers the optional bulk `apply()`. */
  storageApply: boolean;
  /** With storage: tabs coordinate as in a browser (Web Locks, watch(), BroadcastChannel acks). */
  coordinate: boolean;
  failRate: number;
  loseRate: number;
  seed: number;
}

/** A whole history. */
export interface History {
  config: SimConfig;
  script: Reply[];
  steps: Step[];
}

const eventSpec: fc.Arbitrary<EventSpec> = fc.record({
  name: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom<NameKind>('view', 'click', 'paid', 'ruled') },
    { weight: 1, arbitrary: fc.constantFrom<NameKind>('empty', 'long', 'number', 'proxy') },
  ),
  props: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom<PropKind>('none', 'flat', 'nested', 'unicode', 'bigint') },
    { weight: 3, arbitrary: fc.constantFrom(...(Object.keys(propKinds) as PropKind[])) },
  ),
  id: fc.oneof({ weight: 12, arbitrary: fc.constantFrom<IdKind>('unique', 'unique', 'none', 'dup') }, { weight: 1, arbitrary: fc.constantFrom<IdKind>('empty', 'long', 'number') }),
  source: fc.oneof({ weight: 12, arbitrary: fc.constantFrom<SourceKind>('none', 'one', 'many') }, { weight: 1, arbitrary: fc.constantFrom<SourceKind>('long', 'number') }),
  stream: fc.oneof({ weight: 12, arbitrary: fc.constantFrom<StreamKind>('none', 'ui') }, { weight: 1, arbitrary: fc.constantFrom<StreamKind>('long', 'number') }),
  ts: fc.oneof({ weight: 12, arbitrary: fc.constantFrom<TimestampKind>('now', 'past') }, { weight: 1, arbitrary: fc.constantFrom<TimestampKind>('nan', 'huge', 'string') }),
  pick: fc.nat(1000),
});

const retryAfter = fc.oneof(
  fc.integer({ min: 1, max: 120 }).map(String),
  // '+2027' is no date but Date.parse reads it as the year 2027: a pause capped at maxRetryAfterMs.
  fc.constantFrom('0', 'soon', '-5', '1e3', '', '99999999999', ' 3 ', 'Wed, 21 Oct 2015 07:28:00 GMT', '+2027'),
  fc.integer({ min: 1, max: 3600 }).map((s) => `date+${s}`), // an HTTP-date s seconds ahead, written when answered (sim-network.ts)
);

const rulesVariant = fc.constantFrom<RulesVariant>('genuine', 'ttlZero', 'emptyStream', 'emptyName', 'noField', 'huge', 'many', 'notArray', 'nonString');

/** One scripted answer. Healthy answers dominate, so histories also make progress. */
export const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Reply>({ kind: 'ok', body: 'reply' }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ok' as const), body: fc.constantFrom('reply' as const), rules: rulesVariant }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ok' as const), body: fc.constantFrom('empty' as const, 'malformed' as const, 'huge' as const, 'endless' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redirect' as const), status: fc.constantFrom(301 as const, 302 as const, 303 as const, 307 as const, 308 as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('status' as const), status: fc.constantFrom(400, 401, 403, 404, 413) }) },
  {
    weight: 4,
    arbitrary: fc.record(
      { kind: fc.constant('status' as const), status: fc.constantFrom(408, 429, 500, 502, 503), retryAfter },
      { requiredKeys: ['kind', 'status'] },
    ),
  },
  { weight: 3, arbitrary: fc.constantFrom<Reply>({ kind: 'timeout' }, { kind: 'reset' }, { kind: 'storedThenReset' }) },
);

const corruption = fc.constantFrom<Corruption>('chunkGarbage', 'chunkNotArray', 'recordMissingTimestamp', 'recordBadProperties', 'leaseMalformed', 'leaseFuture', 'rulesForever', 'rulesGarbage');

/** One step. Tracking and time dominate; faults, crashes and corruption are rarer. */
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant('track' as const), tab: fc.nat(3), event: eventSpec }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('burst' as const), tab: fc.nat(3), count: fc.integer({ min: 1, max: 300 }), sources: fc.constantFrom(1, 3, 1000) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('send' as const), tab: fc.nat(3), events: fc.array(eventSpec, { minLength: 1, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('flush' as const), tab: fc.nat(3), timeoutMs: fc.constantFrom(0, 100, 5000, 30_000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('close' as const), tab: fc.nat(3) }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 120_000 })) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('jump' as const), ms: fc.oneof(fc.integer({ min: -86_400_000, max: 86_400_000 }), fc.constantFrom(-3_600_000, 3_600_000, -5_000, 5_000)) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('crash' as const), tab: fc.nat(3), reload: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ t: 'open' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('corrupt' as const), what: corruption, pick: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('faults' as const), failRate: fc.constantFrom(0, 0, 0.05, 0.3), loseRate: fc.constantFrom(0, 0, 0.05) }) },
);

/** A tracker configuration: mostly sane, sometimes out of range (3e9 ms, Infinity, NaN). */
export const configArb: fc.Arbitrary<SimConfig> = fc.record({
  storage: fc.boolean(),
  tabs: fc.integer({ min: 1, max: 3 }),
  maxBatchEvents: fc.constantFrom(1, 5, 20, 100),
  maxQueueEvents: fc.constantFrom(10, 100, 1000, 10_000),
  minBatchEvents: fc.constantFrom(1, 1, 10),
  flushIntervalMs: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(100, 1000, 5000) }, { weight: 1, arbitrary: fc.constantFrom(3e9, 0.5) }),
  timeoutMs: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1000, 10_000) }, { weight: 1, arbitrary: fc.constantFrom(Infinity, 3e9) }),
  retry: fc.record({
    limit: fc.constantFrom(Infinity, Infinity, 0, 3),
    baseMs: fc.constantFrom(10, 1000),
    maxDelayMs: fc.constantFrom(100, 30_000, 300_000),
  }),
  concurrency: fc.constantFrom(1, 2, 3),
  compression: fc.constantFrom<'gzip' | 'none'>('gzip', 'none'),
  reentrant: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  latencyMs: fc.constantFrom(1, 20, 500),
  storageLatencyMs: fc.constantFrom(0, 5, 100),
  storageApply: fc.boolean(),
  coordinate: fc.boolean(),
  failRate: fc.constantFrom(0, 0, 0.05),
  loseRate: fc.constantFrom(0, 0, 0.02),
  seed: fc.integer(),
});

/** A whole history: configuration, network script, steps. */
export const historyArb: fc.Arbitrary<History> = fc.record({
  config: configArb,
  script: fc.array(replyArb, { maxLength: 40 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40 }),
});

/** The properties value of a kind, built fresh (Proxies and getters cannot be shared). */
export function materializeProps(kind: PropKind, pick: number): unknown {
  switch (kind) {
    case 'none':
      return undefined;
    case 'flat':
      return { n: pick, s: `v${pick}`, b: pick % 2 === 0, u: undefined, z: null };
    case 'nested':
      return { a: { b: { c: [pick, { d: 'e' }] } }, list: [1, 2, 3] };
    case 'unicode':
      return { text: 'ünïcödé ✓ 🎉 \u2028', key: '\ud83d\ude00' };
    case 'bigint':
      return { big: BigInt(pick) * 10n ** 20n };
    case 'big':
      return { blob: 'x'.repeat(40_000) };
    case 'cycle': {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return o;
    }
    case 'throwingGetter':
      return Object.defineProperty({}, 'bad', { enumerable: true, get: () => { throw new Error('getter throws'); } });
    case 'throwsProxy': {
      // The getter throws a Proxy whose every trap throws: String(error) and instanceof both fail.
      const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); }, has: () => { throw new Error('trap'); } });
      return Object.defineProperty({}, 'bad', { enumerable: true, get: () => { throw hostile; } });
    }
    case 'proxyTraps':
      return new Proxy({ a: 1 }, { ownKeys: () => { throw new Error('ownKeys trap'); }, get: () => { throw new Error('get trap'); } });
    case 'date':
      return new Date(0);
    case 'url':
      return new URL('https://example.com/');
    case 'stringObject':
      return new String('boxed');
    case 'toJSONString':
      return { toJSON: () => 'a string' };
    case 'deep': {
      let o: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < 40; i++) o = { o };
      return o;
    }
    case 'array':
      return [1, 2];
    case 'null':
      return null;
    case 'number':
      return 42;
    case 'function':
      return { f: () => 1 };
  }
}

/** The name value of a kind. */
export function materializeName(kind: NameKind): unknown {
  switch (kind) {
    case 'view':
      return 'page_view';
    case 'click':
      return 'click';
    case 'paid':
      return 'order.paid';
    case 'ruled':
      return ruledName;
    case 'empty':
      return '';
    case 'long':
      return 'n'.repeat(300);
    case 'number':
      return 42;
    case 'proxy':
      return new Proxy({}, { get: () => { throw new Error('name trap'); } });
  }
}

/** Whether wire format v1 accepts the event, and if not, how `track()` must refuse it. */
export function expectation(event: EventSpec): 'valid' | 'invalid' | 'too_large' {
  const parts = [nameKinds[event.name], idKinds[event.id], sourceKinds[event.source], streamKinds[event.stream], timestampKinds[event.ts]];
  if (parts.includes('invalid')) return 'invalid';
  return propKinds[event.props];
}
