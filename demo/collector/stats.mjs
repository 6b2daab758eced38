/**
 * Collector counters. `eventsPerSecond` comes from ten 100 ms buckets, so the rate covers the
 * last second with memory that does not grow with traffic.
 *
 * @typedef {object} CollectorStats
 * @property {number} requests ingest requests (POST /v1/batch), answered or not
 * @property {number} accepted unique events stored
 * @property {number} duplicates events not stored because their id was seen before
 * @property {number} duplicateRequests requests whose `rid` was seen before
 * @property {number} preflights OPTIONS requests, on any path
 * @property {Record<string, number>} rejected non-2xx ingest replies by status
 * @property {number} faultsInjected ingest replies decided by a fault, plus refused connections
 * @property {number} refusedConnections connections and requests dropped by `refuseForMs`
 * @property {number} ruled events not stored because a drop rule matched
 * @property {number} signatureFailures requests refused with 401 bad_signature
 * @property {number} connectionTests `test=1` requests that passed validation
 * @property {number} bytesIn raw request body bytes received on ingest
 * @property {number} bytesInflated decoded body bytes (gzip inflated, plain as received)
 * @property {number} eventsPerSecond events stored during the last second
 * @property {number | null} lastEventAt server time (epoch ms) an event was last stored
 */

const BUCKET_MS = 100;
const BUCKETS = 10;

/** @param {() => number} now */
export function createStats(now = Date.now) {
  // Reset in place, never replaced: handlers hold this object across awaits.
  /** @type {Omit<CollectorStats, 'eventsPerSecond'>} */
  const counters = fresh();
  let buckets = new Float64Array(BUCKETS);
  let bucketStamps = new Float64Array(BUCKETS).fill(-1);

  return {
    counters: () => counters,
    /** @param {number} status */
    reject(status) {
      counters.rejected[status] = (counters.rejected[status] ?? 0) + 1;
    },
    /** @param {number} count events stored by one request */
    stored(count) {
      if (count === 0) return;
      const t = now();
      counters.accepted += count;
      counters.lastEventAt = t;
      const stamp = Math.floor(t / BUCKET_MS);
      const slot = stamp % BUCKETS;
      if (bucketStamps[slot] !== stamp) {
        bucketStamps[slot] = stamp;
        buckets[slot] = 0;
      }
      buckets[slot] += count;
    },
    /** @returns {CollectorStats} */
    snapshot() {
      const current = Math.floor(now() / BUCKET_MS);
      let eventsPerSecond = 0;
      for (let i = 0; i < BUCKETS; i++) {
        if (bucketStamps[i] > current - BUCKETS) eventsPerSecond += buckets[i];
      }
      return { ...counters, rejected: { ...counters.rejected }, eventsPerSecond };
    },
    reset() {
      Object.assign(counters, fresh());
      buckets = new Float64Array(BUCKETS);
      bucketStamps = new Float64Array(BUCKETS).fill(-1);
    },
  };
}

/** @returns {Omit<CollectorStats, 'eventsPerSecond'>} */
function fresh() {
  return {
    requests: 0,
    accepted: 0,
    duplicates: 0,
    duplicateRequests: 0,
    preflights: 0,
    rejected: {},
    faultsInjected: 0,
    refusedConnections: 0,
    ruled: 0,
    signatureFailures: 0,
    connectionTests: 0,
    bytesIn: 0,
    bytesInflated: 0,
    lastEventAt: null,
  };
}

/** @typedef {ReturnType<typeof createStats>} Stats */
